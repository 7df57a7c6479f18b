import type { ChildProcess } from 'node:child_process';
import { freePort, spawnListening } from './nats-server';

const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** The machine's Redis (REDIS_URL overrides it); tests keep to key prefixes of their own there. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A private redis-server, for tests that kill and restart Redis under load. */
export interface PrivateRedisServer {
  url: string;
  port: number;
  /** SIGKILL: Redis vanishes mid-command, as in a crash. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: Redis stops answering without closing a connection (a slow or hung server). */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startRedisServer(): Promise<PrivateRedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port);
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async restart() {
      await kill();
      child = await launch(port);
    },
    async dispose() {
      child?.kill('SIGCONT');
      await kill();
    },
  };
}

async function launch(port: number): Promise<ChildProcess> {
  return spawnListening(REDIS_SERVER_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], port);
}
