import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

// Shared by the benchmarks and the tests; it lives here because bench/ is built into dist/ and test/ never is.

/** Base URLs of the real services; DATABASE_URL / NATS_URL override them. */
export const PG_BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A name no other run (or a running quickstart) uses: lowercase, safe for databases and JetStream. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export function databaseUrl(name: string): string {
  const url = new URL(PG_BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A loopback port that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The environment of a whole system on databases, a namespace and API ports of its own, with
 * the background processes' ops ports left to the system (0): a run never collides with another
 * run or a running quickstart.
 */
export async function isolatedSystemEnv(options: { writeUrl: string; readUrl: string; namespace: string }): Promise<Record<string, string>> {
  return {
    DATABASE_URL: options.writeUrl,
    READ_STORE_URL: options.readUrl,
    NATS_URL,
    CONVERGE_NAMESPACE: options.namespace,
    COMMAND_API_PORT: String(await freePort()),
    QUERY_API_PORT: String(await freePort()),
    RELAY_PORT: '0',
    PROJECTOR_PORT: '0',
    PROCESS_MANAGER_PORT: '0',
    RECONCILER_PORT: '0',
  };
}
