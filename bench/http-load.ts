import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * HTTP load with autocannon in a child process, so that the load generator and the server
 * under test each get their own core; keep-alive connections at a fixed concurrency,
 * cycling through `paths`.
 */
export interface LoadJob {
  baseUrl: string;
  method: 'GET' | 'POST';
  paths: string[];
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  rate: number;
  latencyP50: number;
  latencyP99: number;
}

export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'http-load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: LoadResult | undefined;
    child.on('message', (message: { result?: LoadResult; error?: string }) => {
      if (message.error) reject(new Error(`load generator: ${message.error}`));
      else result = message.result;
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`load generator exited with ${code}`))));
    child.send(job);
  });
}

interface AutocannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  latency: { p50: number; p99: number };
}

type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => void;

async function child(job: LoadJob): Promise<LoadResult> {
  // Loaded only in the child: the parent never needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, only in the child process
  const autocannon = require('autocannon') as Autocannon;
  let next = 0;
  const result = await new Promise<AutocannonResult>((resolve, reject) =>
    autocannon(
      {
        url: job.baseUrl,
        method: job.method,
        body: job.body,
        headers: job.headers,
        connections: job.connections,
        pipelining: 1,
        duration: job.durationSeconds,
        requests: [
          {
            setupRequest: (request: { path: string }) => {
              request.path = job.paths[next++ % job.paths.length];
              return request;
            },
          },
        ],
      },
      (error, value) => (error ? reject(error) : resolve(value)),
    ),
  );
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    rate: result['2xx'] / result.duration,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}

if (require.main === module) {
  process.once('message', (job: LoadJob) => {
    child(job).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (error: unknown) => process.send!({ error: String((error as Error | undefined)?.stack ?? error) }, () => process.exit(1)),
    );
  });
}
