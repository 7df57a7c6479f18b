import { setTimeout as sleep } from 'node:timers/promises';
import { decodeToken, orderKey } from '../src/contracts';
import { CheckpointNotice, checkpointSubject, connectNats } from '../src/nats';
import { startCommandApi } from '../src/processes/command-api';
import { startProcessManager } from '../src/processes/process-manager';
import { startProjector } from '../src/processes/projector';
import { startQueryApi } from '../src/processes/query-api';
import { startRelay } from '../src/processes/relay';
import { dropDatabase } from '../src/postgres';
import { createViewStore } from '../read-model/view-store/create-view-store';
import {
  Benchmark,
  databaseUrl,
  deleteEventStream,
  freshDatabase,
  loadAverage,
  NATS_URL,
  uniqueName,
  waitFor,
} from './harness';
import { benchConfig, benchSku, jsonRequest, registerProducts } from './system';

const RATE = 300;
const SECONDS = 10;
const WARM_UP_SECONDS = 1;
const SKUS = 100;
/** The view GET /inventory/{sku} reads. */
const PROJECTION = 'inventory-levels';

interface Command {
  sku: string;
  sentAt: number;
  answeredAt?: number;
  visibleAt?: number;
  key?: string;
  measured: boolean;
}

/**
 * Command → query visibility at a fixed command rate with the whole system in this process
 * (command API, relay, projector, process manager, query API): for each POST /inventory/{sku}/receipts, the
 * time until the inventory view has applied the command's consistency token (the view and
 * its checkpoint commit together, so that is when GET /inventory/{sku} shows it).
 * Absolute by design: reported with the machine's load average.
 */
export const visibilityBenchmark: Benchmark = visibility('visibility', true);

/** The same with the query API's read cache off: the cache must not make visibility worse. */
export const visibilityWithoutCacheBenchmark: Benchmark = visibility('visibility-nocache', false);

function visibility(name: string, cache: boolean): Benchmark {
  const label = cache ? '' : ', CACHE=off';
  return {
    name,
    async run(ctx) {
      const write = await freshDatabase(ctx, 'cvb_vis', 'write-store', 1);
      const readUrl = databaseUrl(uniqueName('cvb_vis_read'));
      ctx.defer(() => dropDatabase(readUrl));
      const namespace = uniqueName('cvbvis');
      ctx.defer(() => deleteEventStream(namespace));
      const config = await benchConfig({ writeUrl: write.url, readUrl, namespace, env: { CACHE: cache ? 'on' : 'off' } });
      for (const start of [startCommandApi, startRelay, startProjector, startProcessManager, startQueryApi]) {
        const piece = await start(config, ctx.logger);
        ctx.defer(() => piece.stop());
      }
      const store = await createViewStore(readUrl);
      ctx.defer(() => store.close());
      const commandUrl = `http://127.0.0.1:${config.commandApiPort}`;
      const queryUrl = `http://127.0.0.1:${config.queryApiPort}`;

      await registerProducts(commandUrl, SKUS);
      const { rows } = await write.pool.query<{ last: number }>('SELECT max(position)::bigint AS last FROM events');
      await waitFor(async () => ((await store.checkpoint(PROJECTION))?.position ?? 0) >= rows[0].last, 30_000, 'registrations to show', 10);

      const commands: Command[] = [];
      const pending = new Set<Command>();
      // The view's checkpoint so far; a command is visible once it covers the command's place in the log.
      let applied = (await store.checkpoint(PROJECTION))?.orderKey ?? '';
      const settle = (key: string) => {
        if (key <= applied) return;
        applied = key;
        const now = performance.now();
        for (const command of pending) {
          if (command.key && command.key <= applied) {
            command.visibleAt = now;
            pending.delete(command);
          }
        }
      };
      // The projector announces each committed checkpoint on core NATS (what the query API waits on):
      // no polling load on the read store, and the moment of the commit to within a message hop.
      const nc = await connectNats(NATS_URL, 'bench-visibility');
      ctx.defer(() => nc.close());
      nc.subscribe(checkpointSubject(namespace), {
        callback: (error, message) => {
          if (error) return;
          const notice = JSON.parse(message.string()) as CheckpointNotice;
          if (notice.projection === PROJECTION) settle(notice.orderKey);
        },
      });
      await nc.flush();
      // A lost notice only delays a command; a slow re-read of the checkpoint settles it anyway.
      let rechecking = true;
      const recheck = (async () => {
        while (rechecking) {
          await sleep(250);
          settle((await store.checkpoint(PROJECTION))?.orderKey ?? '');
        }
      })();

      const seconds = Math.max(2, SECONDS * ctx.scale);
      const total = Math.round((seconds + WARM_UP_SECONDS) * RATE);
      const warmUp = WARM_UP_SECONDS * RATE;
      const receipts = new Map<string, number>();
      const inFlight: Promise<void>[] = [];
      const failures: unknown[] = [];
      const started = performance.now();
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const sku = benchSku(i % SKUS);
        receipts.set(sku, (receipts.get(sku) ?? 0) + 1);
        const command: Command = { sku, sentAt: performance.now(), measured: i >= warmUp };
        commands.push(command);
        pending.add(command);
        inFlight.push(
          jsonRequest<{ token: string }>('POST', `${commandUrl}/inventory/${sku}/receipts`, { quantity: 1 }).then((res) => {
            command.answeredAt = performance.now();
            if (res.status !== 200) throw new Error(`receipt for ${sku}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
            const token = decodeToken(res.body.token);
            if (!token) throw new Error(`receipt for ${sku}: no consistency token in ${JSON.stringify(res.body)}`);
            command.key = orderKey(token.txId, token.position);
            if (command.key <= applied) {
              command.visibleAt = command.answeredAt;
              pending.delete(command);
            }
          }).catch((error) => {
            failures.push(error);
            pending.delete(command);
          }),
        );
      }
      const issuedIn = (performance.now() - started) / 1000;
      try {
        await Promise.all(inFlight);
        if (failures.length) throw new Error(`${failures.length} commands failed, first: ${String(failures[0])}`);
        await waitFor(() => pending.size === 0, 30_000, 'every command to show in the view');
      } finally {
        // Stop re-reading the checkpoint before the store is closed, whatever happened.
        rechecking = false;
        await recheck;
      }

      // The query API shows what the checkpoint says: every receipt of a sample of skus is in GET /inventory/{sku}.
      for (const sku of [benchSku(0), benchSku(SKUS - 1)]) {
        const res = await jsonRequest<{ data?: { onHand?: number } } | undefined>('GET', `${queryUrl}/inventory/${sku}`);
        if (res.status !== 200 || res.body?.data?.onHand !== receipts.get(sku)) {
          throw new Error(`GET /inventory/${sku}: HTTP ${res.status}, onHand ${res.body?.data?.onHand}, expected ${receipts.get(sku)}`);
        }
      }

      const measured = commands.filter((c) => c.measured);
      const fromSent = percentiles(measured.map((c) => c.visibleAt! - c.sentAt));
      const fromAnswer = percentiles(measured.map((c) => c.visibleAt! - c.answeredAt!));
      const commandLatency = percentiles(measured.map((c) => c.answeredAt! - c.sentAt));
      const achieved = Math.round(total / issuedIn);
      const notes = [
        `${measured.length} commands measured at ${RATE}/s (${achieved}/s achieved) over ${seconds} s after ${WARM_UP_SECONDS} s warm-up, ` +
          `POST /inventory/{sku}/receipts over ${SKUS} skus; time from sending the command until the ${PROJECTION} checkpoint ` +
          `covers its token (the projector's checkpoint notice on core NATS)`,
        `from the command's answer: p50 ${fromAnswer.p50.toFixed(1)} ms, p99 ${fromAnswer.p99.toFixed(1)} ms; ` +
          `command latency p50 ${commandLatency.p50.toFixed(1)} ms, p99 ${commandLatency.p99.toFixed(1)} ms; ` +
          `visibility max ${fromSent.max.toFixed(1)} ms`,
        `load average after the run ${loadAverage()} (absolute targets: depend on the machine)`,
      ];
      return [
        {
          benchmark: `visibility p50 (command → query${label})`,
          baseline: '-',
          subject: `${fromSent.p50.toFixed(1)} ms`,
          target: '≤ 10 ms',
          pass: fromSent.p50 <= 10,
          notes,
        },
        {
          benchmark: `visibility p99 (command → query${label})`,
          baseline: '-',
          subject: `${fromSent.p99.toFixed(1)} ms`,
          target: '≤ 50 ms',
          pass: fromSent.p99 <= 50,
        },
      ];
    },
  };
}

function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}
