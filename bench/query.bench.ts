import { randomUUID } from 'node:crypto';
import { orderKey, PRODUCT_STREAM, productStreamId, RecordedEvent } from '../src/contracts';
import { startQueryApi } from '../src/processes/query-api';
import { PRODUCTS, productCatalogProjection } from '../read-model/product-catalog/product-catalog.projection';
import type { ProjectionHandler, ViewDocument } from '../read-model/projector/projection';
import { createViewStore } from '../read-model/view-store/create-view-store';
import { Benchmark, freshDatabase, listen, ratioRow, sideBySide } from './harness';
import { runLoad } from './http-load';
import { benchConfig, benchSku, jsonRequest } from './system';

const SKUS = 100;
const CONNECTIONS = 32;

/**
 * Query API GET /products/{sku} vs a bare node:http server answering the same JSON
 * documents, same load generator (autocannon in its own process) and concurrency.
 */
export const queryBenchmark: Benchmark = {
  name: 'query',
  async run(ctx) {
    const read = await freshDatabase(ctx, 'cvb_query', 'read-store', 1);
    await seedProducts(read.url);
    const config = await benchConfig({ writeUrl: read.url, readUrl: read.url });
    const api = await startQueryApi(config, ctx.logger);
    ctx.defer(() => api.stop());
    const queryUrl = `http://127.0.0.1:${config.queryApiPort}`;

    // The bare server answers each path with the very body and content type the query API gave.
    const paths = Array.from({ length: SKUS }, (_, i) => `/products/${benchSku(i)}`);
    const bodies = new Map<string, Buffer>();
    for (const path of paths) {
      const res = await jsonRequest('GET', `${queryUrl}${path}`);
      if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      bodies.set(path, Buffer.from(JSON.stringify(res.body)));
    }
    const bareUrl = await listen(ctx, (req, res) => {
      const body = bodies.get(req.url ?? '');
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    });

    const load = async (baseUrl: string, seconds: number) => {
      const result = await runLoad({ baseUrl, method: 'GET', paths, connections: CONNECTIONS, durationSeconds: seconds });
      if (result.non2xx || result.errors) throw new Error(`${baseUrl}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return { ops: result.ok, seconds: result.seconds };
    };
    const roundSeconds = Math.max(1, Math.round(3 * ctx.scale));
    await load(queryUrl, 1);
    await load(bareUrl, 1);
    const measured = await sideBySide(
      3,
      () => load(bareUrl, roundSeconds),
      () => load(queryUrl, roundSeconds),
    );
    const size = bodies.get(paths[0])!.length;
    return [
      ratioRow('query API vs bare node:http', measured, 'req/s', 0.7, '≥ 70%', [
        `GET /products/{sku} over ${SKUS} skus (${size} B body), ${CONNECTIONS} keep-alive connections from autocannon in its own process`,
      ]),
    ];
  },
};

/** Writes product documents and the projection's checkpoint as the projector would. */
async function seedProducts(readUrl: string): Promise<void> {
  const store = await createViewStore(readUrl);
  try {
    for (const view of productCatalogProjection.views) await store.ensureCollection(view);
    const [registered] = productCatalogProjection.handlers.ProductRegistered as ProjectionHandler<RecordedEvent, ViewDocument>[];
    const recordedAt = new Date();
    const changes = Array.from({ length: SKUS }, (_, i) => {
      const sku = benchSku(i);
      const event: RecordedEvent = {
        position: i + 1,
        txId: String(1000 + i),
        eventId: randomUUID(),
        streamId: productStreamId(sku),
        streamType: PRODUCT_STREAM,
        streamVersion: 1,
        type: 'ProductRegistered',
        schemaVersion: 2,
        data: {
          sku,
          name: `Bench product ${sku}`,
          description: 'A product of the benchmark catalog.',
          price: { amount: 1299, currency: 'EUR' },
        },
        metadata: { correlationId: randomUUID() },
        recordedAt,
      };
      // eslint-disable-next-line prefer-spread -- the handler's own apply(doc, event), not Function.prototype.apply
      return { collection: PRODUCTS, id: sku, doc: registered.apply(undefined, event) ?? null, applied: orderKey(event.txId, event.position) };
    });
    await store.commit({
      projection: productCatalogProjection.name,
      changes,
      checkpoint: { orderKey: changes[changes.length - 1].applied, position: SKUS, eventRecordedAt: recordedAt, pending: 0 },
    });
  } finally {
    await store.close();
  }
}
