import { startCommandApi } from '../src/processes/command-api';
import { APPEND_CONCURRENCY, emmettAppender } from './append.bench';
import { openEmmett } from './emmett';
import { Benchmark, closedLoopRate, freshDatabase, ratioRow, scaled, sideBySide } from './harness';
import { runLoad } from './http-load';
import { benchAuthorization, benchConfig, benchSku, registerProducts } from './system';

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
    const receipts = (seconds: number) =>
      runLoad({
        baseUrl: commandUrl,
        method: 'POST',
        paths,
        body: JSON.stringify({ quantity: 1 }),
        headers: { 'content-type': 'application/json', authorization },
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
    const { rows } = await write.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE event_type = 'StockReceived'");
    return [
      ratioRow('command-path (HTTP) vs Emmett append', measured, 'cmd/s', 0.75, '≥ 0.75×', [
        `POST /inventory/{sku}/receipts over ${skus} skus, ${concurrency} keep-alive connections (autocannon, own process); ` +
          `Emmett ${concurrency} in-process appenders, 1 event each, new stream`,
        `${rows[0].n} receipts recorded; ${failures} non-2xx or failed requests; ${latency}`,
      ]),
    ];
  },
};
