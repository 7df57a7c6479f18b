import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

/** A converge process run from dist/ as the operator runs it, with what it printed and how it ended. */
export interface SpawnedProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  /** undefined while it runs. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `node dist/src/main.js <which>` with the test system's environment (plus overrides). */
export function spawnProcess(which: string, env: Record<string, string>, name = which): SpawnedProcess {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  const child = spawn(process.execPath, [MAIN, which], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.stdout?.on('data', (chunk) => (output = (output + String(chunk)).slice(-20_000)));
  child.stderr?.on('data', (chunk) => (output = (output + String(chunk)).slice(-20_000)));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      ended = { code, signal };
      resolve();
    }),
  );
  return {
    name,
    child,
    output: () => output,
    exit: () => ended,
    async stop() {
      if (!ended) child.kill('SIGTERM');
      await exited;
      return ended!.code;
    },
  };
}

/** Fails naming every process that has exited, with the end of its output. */
export function expectAllRunning(processes: SpawnedProcess[]): void {
  const gone = processes.filter((p) => p.exit());
  if (gone.length) {
    throw new Error(gone.map((p) => `${p.name} exited ${JSON.stringify(p.exit())}:\n${p.output().slice(-3000)}`).join('\n\n'));
  }
}
