import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * /metrics and /health for a background process, on node:http. Small on purpose: a stand-in
 * until the shared ops server (src/http/ops-server.ts, issue 12 item 1) lands and replaces it.
 */
export async function startMinimalOpsServer(options: {
  port: number;
  registry: Registry;
  /** Readiness detail; throwing means not ready. */
  ready?: () => Promise<Record<string, unknown>>;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    void (async () => {
      if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
      if (path === '/metrics') return send(200, options.registry.contentType, await options.registry.metrics());
      if (path === '/health' || path === '/health/live') return send(200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (path === '/health/ready') {
        try {
          return send(200, 'application/json', JSON.stringify({ status: 'ok', details: (await options.ready?.()) ?? {} }));
        } catch (error) {
          return send(503, 'application/json', JSON.stringify({ status: 'error', error: error instanceof Error ? error.message : String(error) }));
        }
      }
      send(404, 'text/plain', 'not found\n');
    })().catch(() => send(500, 'text/plain', 'internal error\n'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
