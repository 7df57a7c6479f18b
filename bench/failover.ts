/**
 * Measures projector failover: two projector replicas (child processes from dist/) share the
 * projections; the owner of inventory-levels is SIGKILLed and the time until the survivor holds
 * every projection the dead one held is taken from the read store's lease rows. A replacement
 * replica then joins, the projections spread again, and the next round begins.
 * `npm run build && node dist/bench/failover.js [rounds]` (PROJECTOR_LEASE_TTL_MS applies; default 5 s).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createViewStore } from '../read-model/view-store/create-view-store';
import { dropDatabase, ensureDatabase, migrate } from '../src/postgres';
import { databaseUrl, NATS_URL, uniqueName } from './support/local-services';
import { deleteEventStream } from './harness';

const MAIN = join(__dirname, '..', 'src', 'main.js');

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 10);
  const namespace = uniqueName('cvfo');
  const writeUrl = databaseUrl(`${namespace}_w`);
  const readUrl = databaseUrl(`${namespace}_r`);
  await ensureDatabase(writeUrl);
  await ensureDatabase(readUrl);
  await migrate(writeUrl, 'write-store');
  const store = await createViewStore(readUrl);
  await store.init();
  const env = { ...process.env, DATABASE_URL: writeUrl, READ_STORE_URL: readUrl, NATS_URL, CONVERGE_NAMESPACE: namespace, LOG_LEVEL: 'silent' };
  const children = new Map<string, ChildProcess>();
  const spawnReplica = (id: string) => {
    children.set(id, spawn(process.execPath, [MAIN, 'projector'], { env: { ...env, CONVERGE_REPLICA_ID: id }, stdio: ['ignore', 'ignore', 'inherit'] }));
  };
  const owners = async () => {
    const { leases, now } = await store.leases();
    return new Map(leases.filter((l) => l.name.startsWith('projection/') && l.expiresAt > now).map((l) => [l.name, l.owner.split('/')[0]]));
  };
  const until = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 120_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };
  const times: number[] = [];
  let next = 0;
  try {
    spawnReplica(`r${next++}`);
    spawnReplica(`r${next++}`);
    for (let round = 0; round < rounds; round++) {
      await until(async () => {
        const held = await owners();
        const counts = new Map<string, number>();
        for (const owner of held.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
        return held.size === 5 && [...counts.values()].sort().join() === '2,3';
      }, 'the projections to spread over two replicas');
      const before = await owners();
      const victim = before.get('projection/inventory-levels')!;
      const victimHeld = [...before].filter(([, owner]) => owner === victim).map(([name]) => name);
      const killedAt = Date.now();
      children.get(victim)!.kill('SIGKILL');
      children.delete(victim);
      await until(async () => {
        const held = await owners();
        return victimHeld.every((name) => held.get(name) && held.get(name) !== victim);
      }, 'the survivor to take over');
      const took = Date.now() - killedAt;
      times.push(took);
      console.log(`round ${round + 1}: ${victimHeld.length} projections taken over in ${took} ms`);
      spawnReplica(`r${next++}`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    console.log(`projector failover over ${times.length} takeovers: median ${median} ms, worst ${sorted[sorted.length - 1]} ms, best ${sorted[0]} ms`);
  } finally {
    for (const child of children.values()) child.kill('SIGKILL');
    await sleep(500);
    await store.close();
    await deleteEventStream(namespace).catch(() => undefined);
    await dropDatabase(writeUrl);
    await dropDatabase(readUrl);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
