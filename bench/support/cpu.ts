import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux counts process CPU time in USER_HZ ticks, 100 a second on every architecture Node.js runs on. */
const MS_PER_TICK = 10;

/** CPU time used so far, in ms, per named group of processes. */
export type CpuUse = Record<string, number>;

export interface CpuShare {
  /** CPU time per command, in ms, per group. */
  perCommand: CpuUse;
  total: number;
  /** What the machine's cores give per command at the rate run: cores × 1000 ms / rate. */
  available: number;
}

/**
 * CPU time used so far by the given processes, and by every process whose command name is a
 * key of `byCommand` (e.g. all of PostgreSQL's backends), read from /proc. Undefined where
 * there is no /proc. Processes that exited since an earlier reading are missing from the later
 * one, so a difference undercounts short-lived processes. `byPid` puts single processes of
 * those (e.g. the backends serving one client) in a group of their own.
 */
export function cpuUse(
  pids: Record<string, number>,
  byCommand: Record<string, string>,
  byPid: Record<string, string> = {},
): CpuUse | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const used: CpuUse = {};
  const add = (group: string, pid: number | string) => {
    const ticks = processTicks(pid);
    if (ticks !== undefined) used[group] = (used[group] ?? 0) + ticks * MS_PER_TICK;
  };
  for (const [group, pid] of Object.entries(pids)) add(group, pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const group = byCommand[readOr(`/proc/${entry}/comm`, '').trim()];
    if (group) add(byPid[entry] ?? group, entry);
  }
  return used;
}

/** The CPU each group used between two readings, per command, beside what the cores give per command at `rate`. */
export function cpuShare(before: CpuUse, after: CpuUse, commands: number, rate: number): CpuShare {
  const perCommand: CpuUse = {};
  for (const group of Object.keys(after)) perCommand[group] = Math.max(0, after[group] - (before[group] ?? 0)) / commands;
  const total = Object.values(perCommand).reduce((sum, ms) => sum + ms, 0);
  return { perCommand, total, available: (availableParallelism() * 1000) / rate };
}

export function describeCpuShare(share: CpuShare): string {
  const groups = Object.entries(share.perCommand)
    .sort(([, a], [, b]) => b - a)
    .map(([group, ms]) => `${group} ${ms.toFixed(2)}`)
    .join(', ');
  return (
    `CPU time per command (ms): ${groups}; total ${share.total.toFixed(2)} ms, against ${share.available.toFixed(2)} ms ` +
    `that ${availableParallelism()} cores give per command at this rate`
  );
}

function processTicks(pid: number | string): number | undefined {
  const stat = readOr(`/proc/${pid}/stat`, '');
  if (!stat) return undefined;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
