import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

/**
 * A port that nothing listens on right now, for a server started a moment later. Taken outside
 * the kernel's ephemeral range: a port from inside it (what listening on port 0 returns) can be
 * given to an outgoing connection (a database pool, a NATS client) before the server binds it,
 * which then fails with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const [low, high] = ephemeralPorts();
  const below = Math.max(0, low - FIRST_PORT);
  const above = Math.max(0, 65535 - high);
  if (below + above === 0) return kernelsChoice(); // every port is ephemeral here: take the kernel's
  for (let attempt = 0; attempt < 100; attempt++) {
    const pick = randomInt(below + above);
    const port = pick < below ? FIRST_PORT + pick : high + 1 + (pick - below);
    if (await listensFree(port)) return port;
  }
  throw new Error('no free port found outside the ephemeral range in 100 attempts');
}

/** Ports below this are left to well-known services and the quickstart. */
const FIRST_PORT = 10_000;

/** The range the kernel hands out to outgoing connections (Linux's default where it cannot be read). */
function ephemeralPorts(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux: the default below
  }
  return [32768, 60999];
}

function kernelsChoice(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether a server can listen on the port on every interface (as the APIs may) right now. */
function listensFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
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
