import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { notReadyProblem, readiness, ReadinessChecks } from './health';

export interface OpsServerOptions {
  /** 0: any free port (tests read `port` back). */
  port: number;
  registry: Registry;
  /** Same contract as the APIs' readiness checks: a throw is "down", `{ status: 'degraded' }` passes. */
  checks: ReadinessChecks;
  logger?: Logger;
  host?: string;
}

export interface OpsServer {
  port: number;
  /** From now on serves these metrics and readiness checks: a process's own, once its work has started. */
  serve(what: Pick<OpsServerOptions, 'registry' | 'checks'>): void;
  /** From now on /health/ready answers 503 (the process is stopping). */
  drain(): void;
  close(): Promise<void>;
}

/**
 * `/metrics`, `/health/live` and `/health/ready` for a process without an API (relay, projector,
 * process manager, reconciler): a bare node:http server, so it answers even while the process's
 * own work is stuck, and the same documents as the APIs' health routes.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  let draining = false;
  let { registry, checks } = options;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger?.error({ err: error, url: req.url }, 'ops request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') return send(res, 200, registry.contentType, await registry.metrics());
    if (path === '/health/live') return send(res, 200, 'application/json', JSON.stringify({ status: 'live' }));
    if (path === '/health/ready') {
      const health = await readiness(checks, draining);
      if (health.status === 'ok') return send(res, 200, 'application/json', JSON.stringify(health));
      const problem = { ...notReadyProblem(health), instance: req.url };
      res.setHeader('Retry-After', '1');
      return send(res, 503, 'application/problem+json', JSON.stringify(problem));
    }
    send(res, 404, 'text/plain', 'not found: this port serves /metrics, /health/live and /health/ready\n');
  }
  await listen(server, options.port, options.host ?? '0.0.0.0');
  return {
    port: (server.address() as AddressInfo).port,
    serve: (what) => {
      ({ registry, checks } = what);
    },
    drain: () => {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The ops server of a background process that is still starting (waiting for PostgreSQL, the read
 * store or NATS): live, not ready, with the process's default metrics. The process serves its own
 * on it once it runs (opsServerFor), so probes get an answer from the first moment.
 */
export function startWaitingOpsServer(port: number, logger?: Logger): Promise<OpsServer> {
  return startOpsServer({
    port,
    registry: createRegistry(),
    logger,
    checks: { starting: () => Promise.reject(new Error('starting: waiting for its dependencies')) },
  });
}

/** The ops server a process serves its own metrics and checks on: the one it was given (already listening), or a new one. */
export async function opsServerFor(given: OpsServer | undefined, options: OpsServerOptions): Promise<OpsServer> {
  if (!given) return startOpsServer(options);
  given.serve(options);
  return given;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
