import { Agent, request } from 'node:http';
import { Config, loadConfig } from '../src/config';
import { mintDevToken } from '../src/identity/authenticator';
import { generateDevKey } from '../src/identity/dev-key';
import { isolatedSystemEnv } from './support/local-services';

/** The environment of a system on the benchmark's own databases, namespace and ports. */
export async function benchEnv(options: { writeUrl: string; readUrl?: string; namespace?: string; env?: Record<string, string> }): Promise<Record<string, string>> {
  return {
    ...(await isolatedSystemEnv({ writeUrl: options.writeUrl, readUrl: options.readUrl ?? options.writeUrl, namespace: options.namespace ?? 'bench' })),
    LOG_LEVEL: 'silent',
    // The benchmarks' own signing key, and no rate limit: they are the load.
    AUTH_DEV_KEY: BENCH_DEV_KEY,
    RATE_LIMIT_REQUESTS: '0',
    ...options.env,
  };
}

/** Configuration of in-process system pieces on the benchmark's own databases, namespace and ports. */
export async function benchConfig(options: Parameters<typeof benchEnv>[0]): Promise<Config> {
  return loadConfig(await benchEnv(options));
}

/** The development key every benchmarked system verifies with (one per run). */
export const BENCH_DEV_KEY = generateDevKey();

let admin: Promise<string> | undefined;

/** `Bearer <admin token>` for the benchmarks' requests (autocannon's headers included). */
export function benchAuthorization(): Promise<string> {
  admin ??= mintDevToken({ devKey: BENCH_DEV_KEY, issuer: '', audience: '', roleClaim: 'role' }, { role: 'admin', subject: 'bench', ttlSeconds: 24 * 3600 }).then(
    (token) => `Bearer ${token}`,
  );
  return admin;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface JsonResponse<B = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body, as the caller expects it to be (the text when it is not JSON). */
  body: B;
}

/** One JSON request over a keep-alive connection, as the benchmarks' admin. */
export async function jsonRequest<B = unknown>(method: string, url: string, body?: unknown): Promise<JsonResponse<B>> {
  try {
    return await sendJson<B>(method, url, body);
  } catch (error) {
    // A kept-alive socket the server closed as idle just as it was reused (Node's documented race):
    // the request never reached the server, so it is sent again once.
    if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
      return sendJson<B>(method, url, body);
    }
    throw error;
  }
}

/**
 * A process's /metrics, scraped once: `sum(name, label)` adds up the samples of the lines that
 * start with `name` and contain `label` (e.g. `result="hit"`).
 */
export async function scrapeMetrics(url: string): Promise<(name: string, label?: string) => number> {
  const text = (await jsonRequest<string>('GET', `${url}/metrics`)).body;
  return (name, label = '') =>
    text
      .split('\n')
      .filter((line) => line.startsWith(name) && line.includes(label))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function sendJson<B>(method: string, url: string, body?: unknown): Promise<JsonResponse<B>> {
  const authorization = await benchAuthorization();
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        agent,
        headers: payload ? { authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : { authorization },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed as B });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.end(payload);
  });
}

export const benchSku = (i: number) => `BENCH-${String(i).padStart(5, '0')}`;

/** Registers `count` products through the command API, `concurrency` at a time. */
export async function registerProducts(commandUrl: string, count: number, concurrency = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const sku = benchSku(next++);
        const res = await jsonRequest('POST', `${commandUrl}/products`, {
          sku,
          name: `Bench product ${sku}`,
          description: 'A product registered by the benchmark',
          price: { amount: 1299, currency: 'EUR' },
        });
        if (res.status !== 201) throw new Error(`registering ${sku}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      }
    }),
  );
}
