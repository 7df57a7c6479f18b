import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/support/local-services';

export { freePort };

const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** A private nats-server with JetStream, for tests that stop, restart or tamper with NATS. */
export interface PrivateNatsServer {
  url: string;
  port: number;
  /** JetStream's store directory; survives stop()/restart(). */
  storeDir: string;
  /** Stops the server gracefully (JetStream flushes its files). */
  stop(): Promise<void>;
  /** Starts it again on the same port and store directory. */
  restart(): Promise<void>;
  /** kill -9: no flush, connections just end (restart() brings it back). */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open and answers nothing, as a vanished host or a partition does. Resolves once it is stopped. */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops it and removes the store directory. */
  dispose(): Promise<void>;
}

export async function startNatsServer(): Promise<PrivateNatsServer> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'converge-nats-'));
  let child: ChildProcess | undefined = await launch(port, storeDir);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGCONT'); // a paused server would not act on SIGTERM
    running.kill(signal);
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    async pause() {
      const paused = child;
      if (!paused?.pid) return;
      paused.kill('SIGSTOP');
      // kill() returns before the signal takes effect, and every thread of the server must stop:
      // one still running could answer one more request.
      const deadline = Date.now() + 5_000;
      while (!(await allThreadsStopped(paused.pid))) {
        if (Date.now() > deadline) throw new Error('nats-server did not stop on SIGSTOP within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    resume: () => void child?.kill('SIGCONT'),
    async restart() {
      await stop();
      child = await launch(port, storeDir);
    },
    async dispose() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** Whether every thread of a process is stopped (state T in /proc). */
async function allThreadsStopped(pid: number): Promise<boolean> {
  const threads = await readdir(`/proc/${pid}/task`);
  const states = await Promise.all(
    threads.map(async (tid) => (await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')).replace(/^.*\) /s, '')[0]),
  );
  return states.every((state) => state === 'T');
}

async function launch(port: number, storeDir: string): Promise<ChildProcess> {
  return spawnListening(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], port);
}

/** Starts a private server and resolves once it accepts connections on `port` (10 s at most). */
export async function spawnListening(bin: string, args: string[], port: number): Promise<ChildProcess> {
  const name = bin.split('/').pop();
  const child = spawn(bin, args, { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} on port ${port}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not listen on port ${port} within 10 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
