import type { RequestListener } from 'node:http';
import { randomUUID } from 'node:crypto';
import { startCommandApi } from '../src/processes/command-api';
import { EventStore } from '../write-model/event-store/event-store';
import { ReceiveStock, ReceiveStockHandler } from '../write-model/inventory/inventory.commands';
import { AggregateStore } from '../write-model/shared/aggregate-store';
import { APPEND_CONCURRENCY, emmettAppender } from './append.bench';
import { openEmmett } from './emmett';
import { Benchmark, closedLoopRate, freshDatabase, listen, ratioRow, scaled, sideBySide } from './harness';
import { runLoad } from './http-load';
import { createPool } from '../src/postgres';
import { benchAuthorization, benchConfig, benchSku, registerProducts, scrapeMetrics } from './system';

const SKUS = 1_000;

/**
 * The HTTP command path (validation, load, decide, append) of POST /inventory/{sku}/receipts,
 * driven over keep-alive connections, vs Emmett's library-level appendToStream, side by
 * side at the same concurrency.
 */
export const commandPathBenchmark: Benchmark = {
  name: 'command-path',
  async run(ctx) {
    const concurrency = APPEND_CONCURRENCY;
    const write = await freshDatabase(ctx, 'cvb_cmd', 'write-store', 1);
    const emmettDb = await freshDatabase(ctx, 'cvb_cmd_emmett', undefined, 1);
    const config = await benchConfig({ writeUrl: write.url });
    const api = await startCommandApi(config, ctx.logger);
    ctx.defer(() => api.stop());
    const commandUrl = `http://127.0.0.1:${config.commandApiPort}`;
    const skus = scaled(ctx, SKUS, 100);
    await registerProducts(commandUrl, skus);

    const emmett = await openEmmett(emmettDb.url, concurrency);
    ctx.defer(() => emmett.close());
    const appendEmmett = emmettAppender(emmett.store, 'command-path');

    const paths = Array.from({ length: skus }, (_, i) => `/inventory/${benchSku(i)}/receipts`);
    const authorization = await benchAuthorization();
    /** Receipts over every sku for `seconds`, to the command API or a bare server (which takes no token). */
    const receipts = (seconds: number, baseUrl = commandUrl) =>
      runLoad({
        baseUrl,
        method: 'POST',
        paths,
        body: JSON.stringify({ quantity: 1 }),
        headers: { 'content-type': 'application/json', ...(baseUrl === commandUrl && { authorization }) },
        connections: concurrency,
        durationSeconds: seconds,
      });

    const roundSeconds = Math.max(1, Math.round(3 * ctx.scale));
    await receipts(1);
    await closedLoopRate(concurrency, 500, (w, i) => appendEmmett(-1, w, i));

    let failures = 0;
    let latency = '';
    const measured = await sideBySide(
      3,
      (round) => closedLoopRate(concurrency, roundSeconds * 1000, (w, i) => appendEmmett(round, w, i)),
      async () => {
        const load = await receipts(roundSeconds);
        failures += load.non2xx + load.errors;
        latency = `last round latency p50 ${load.latencyP50} ms, p99 ${load.latencyP99} ms`;
        return { ops: load.ok, seconds: load.seconds };
      },
    );
    const kept = await keptAggregates(commandUrl);
    // The limits of the HTTP path on this machine, against the same Emmett baseline: the same handler,
    // load and append behind a bare node:http server (no framework, validation or authentication); and
    // the HTTP hop alone, a bare node:http server whose every request is one Emmett append.
    const againstEmmett = async (baseUrl: string, tag: number) => {
      let failed = 0;
      const measured = await sideBySide(
        3,
        (round) => closedLoopRate(concurrency, roundSeconds * 1000, (w, i) => appendEmmett(tag + round, w, i)),
        async () => {
          const load = await receipts(roundSeconds, baseUrl);
          failed += load.non2xx + load.errors;
          return { ops: load.ok, seconds: load.seconds };
        },
      );
      return { measured, failed };
    };
    const pool = createPool(write.url, { max: 20 }); // as the command API's
    ctx.defer(() => pool.end());
    const handler = new ReceiveStockHandler(new AggregateStore(new EventStore(pool), { cacheSize: config.aggregateCacheSize }));
    const bareUrl = await listen(
      ctx,
      bareReceipts((sku, quantity) =>
        handler.execute(new ReceiveStock({ type: 'ReceiveStock', sku, quantity }, { correlationId: randomUUID(), actor: 'bench' })),
      ),
    );
    const bareRun = await againstEmmett(bareUrl, 10);
    let appended = 0;
    const hopRun = await againstEmmett(await listen(ctx, bareReceipts(() => appendEmmett(1_000, 0, appended++))), 20);
    const { rows } = await write.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE event_type = 'StockReceived'");
    return [
      ratioRow('command-path (HTTP) vs Emmett append', measured, 'cmd/s', 0.75, '≥ 0.75×', [
        `POST /inventory/{sku}/receipts over ${skus} skus, ${concurrency} keep-alive connections (autocannon, own process); ` +
          `Emmett ${concurrency} in-process appenders, 1 event each, new stream`,
        `${rows[0].n} receipts recorded (both servers); ${failures} non-2xx or failed requests; ${latency}`,
        `AGGREGATE_CACHE_SIZE=${config.aggregateCacheSize}: ${kept}`,
      ]),
      {
        ...ratioRow('command-path limit: bare node:http + handler vs Emmett', bareRun.measured, 'cmd/s', 0, 'context', [
          `the same ReceiveStockHandler (load, decide, append) behind a bare node:http server: no Nest, validation or authentication; ${bareRun.failed} non-2xx or failed requests`,
        ]),
        pass: undefined,
      },
      {
        ...ratioRow('HTTP hop alone: bare node:http + Emmett append vs Emmett', hopRun.measured, 'cmd/s', 0, 'context', [
          `a bare node:http server whose every POST is one Emmett appendToStream (new stream): what any HTTP front costs here, load generator included; ${hopRun.failed} non-2xx or failed requests`,
        ]),
        pass: undefined,
      },
    ];
  },
};

/** What the command API's kept aggregates served, from its /metrics: how many of its commands' reads skipped the store. */
async function keptAggregates(commandUrl: string): Promise<string> {
  const sum = await scrapeMetrics(commandUrl);
  const hits = sum('converge_aggregate_cache_reads_total', 'result="hit"');
  const misses = sum('converge_aggregate_cache_reads_total', 'result="miss"');
  const stale = sum('converge_aggregate_cache_stale_total');
  return `the command API's reads: ${hits} from kept aggregates, ${misses} from the store; ${stale} decisions decided again`;
}

/** POST /inventory/{sku}/receipts for a bare node:http server: what `handle` returns, as JSON. */
function bareReceipts(handle: (sku: string, quantity: number) => Promise<unknown>): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const sku = /^\/inventory\/([^/]+)\/receipts$/.exec(req.url ?? '')?.[1];
      const { quantity } = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { quantity: number };
      if (!sku) {
        res.writeHead(404).end();
        return;
      }
      handle(sku, quantity).then(
        (result) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result ?? {})),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
      );
    });
  };
}
