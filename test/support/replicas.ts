/**
 * Test-only: background processes run as children from dist/ (one per replica), with their
 * JSON log lines kept for the test to read, and the read store's leases by projection.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lease, ViewStore } from '../../read-model/view-store/view-store';
import { projectRoot } from '../../src/paths';

export const MAIN = join(projectRoot(), 'dist', 'src', 'main.js');

export interface Replica {
  id: string;
  child: ChildProcess;
  /** Every JSON log line the process wrote so far, parsed. */
  lines: Record<string, any>[];
  exited: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export function spawnReplica(processName: string, id: string, env: Record<string, string>): Replica {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  const child = spawn(process.execPath, [MAIN, processName], {
    // Ops ports (/metrics, /health) of background processes: free ones, so replicas never collide. After
    // `env`, which is usually system.env and names the test system's own (single) ops ports.
    env: { ...process.env, ...env, RELAY_PORT: '0', PROJECTOR_PORT: '0', PROCESS_MANAGER_PORT: '0', RECONCILER_PORT: '0', CONVERGE_REPLICA_ID: id },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, any>[] = [];
  let rest = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part));
      } catch {
        // not a log line (a banner)
      }
    }
  });
  child.stderr.on('data', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { id, child, lines, exited, kill: (signal) => child.kill(signal) };
}

/** The unexpired projection leases, by projection name. */
export async function projectionOwners(store: ViewStore): Promise<Map<string, Lease>> {
  const { leases, now } = await store.leases();
  return new Map(
    leases.filter((l) => l.name.startsWith('projection/') && l.expiresAt > now).map((l) => [l.name.slice('projection/'.length), l]),
  );
}

/** The replica id a lease owner string starts with (`<replica id>/<pid>/<random>`). */
export const replicaOf = (lease: Lease) => lease.owner.split('/')[0];
