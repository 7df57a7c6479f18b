import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { Logger } from '../../src/logger';
import { stillTrying } from '../../src/unreachable';
import type { CacheMetrics } from './cache-metrics';

/**
 * An entry as Redis holds it (one hash per document): `e` the collection's epoch it was written
 * in, `a` the order key it was read at (the document's applied key; a list's checkpoint), `v`
 * the order key it is known valid at, `b` the answer. A hash with `a` but no `b` is a tombstone:
 * an invalidation's "nothing older than `a` may be set here", kept even where no entry was.
 */

/** Reads an entry of the current epoch; creates the epoch (ARGV[1]) when there is none (first use, FLUSHALL). */
const GET = `
local e = redis.call('GET', KEYS[2])
if not e then redis.call('SET', KEYS[2], ARGV[1]); e = ARGV[1] end
local r = redis.call('HMGET', KEYS[1], 'e', 'a', 'v', 'b')
if r[1] ~= e or not r[4] then return {e} end
return {e, r[2], r[3], r[4]}`;

/** Compare-and-set by position: only in the epoch the reader saw, never over a newer entry or tombstone. */
const SET = `
local e = redis.call('GET', KEYS[2])
if e ~= ARGV[1] then return 0 end
local r = redis.call('HMGET', KEYS[1], 'e', 'a')
if r[1] == e and r[2] and r[2] > ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'e', e, 'a', ARGV[2], 'v', ARGV[3], 'b', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/** Replaces every entry older than its new applied key with a tombstone at that key (KEYS[1]: the epoch). */
const INVALIDATE = `
local e = redis.call('GET', KEYS[1])
if not e then return 0 end
local n = 0
for i = 2, #KEYS do
  local r = redis.call('HMGET', KEYS[i], 'e', 'a')
  if not (r[1] == e and r[2] and r[2] >= ARGV[i]) then
    redis.call('DEL', KEYS[i])
    redis.call('HSET', KEYS[i], 'e', e, 'a', ARGV[i])
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
    n = n + 1
  end
end
return n`;

interface Scripts {
  cacheGet(entry: string, epoch: string, freshEpoch: string): Promise<(string | null)[]>;
  cacheSet(entry: string, epoch: string, expectedEpoch: string, applied: string, validAt: string, body: string, ttlMs: number): Promise<number>;
  cacheInvalidate(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
}

/** Tries of an invalidation that times out before the tier is degraded (and its entries voided). */
const INVALIDATION_ATTEMPTS = 5;
/** Consecutive read or write time-outs that mark the tier degraded. */
const TIMEOUTS_BEFORE_DEGRADED = 3;

export type RedisRead =
  | { hit: true; epoch: string; applied: string; validAt: string; body: string }
  | { hit: false; epoch: string };

export type RedisState = 'up' | 'degraded';

export interface RedisTierOptions {
  url: string;
  keyPrefix: string;
  ttlMs: number;
  /** Longest call: a slow Redis is treated like a missing one. */
  timeoutMs: number;
  /** Every collection cached: each gets a new epoch whenever Redis (again) becomes usable. */
  collections: string[];
  metrics: CacheMetrics;
  logger?: Logger;
  /** How often a degraded tier checks whether Redis is back. */
  probeMs?: number;
}

/**
 * The shared tier. Any failure or time-out marks it degraded: reads and writes skip it (the
 * store answers instead) until a probe succeeds. If invalidations were missed meanwhile, it
 * first gives every collection a new epoch: entries of an older epoch are never served again.
 */
export class RedisTier {
  private readonly client: Redis & Scripts;
  private state: RedisState = 'degraded';
  private lastError = 'not connected yet';
  /** Why the connection failed last (ioredis's 'error' event): a call made meanwhile only says it was refused. */
  private connectionError?: string;
  private everUp = false;
  private saidUnreachable = false;
  /** An invalidation or epoch change Redis did not get: its entries must not be trusted again as they are. */
  private missed = true;
  private timeouts = 0;
  private probing?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: RedisTierOptions) {
    const client = new Redis(options.url, {
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1_000, options.timeoutMs),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    });
    client.defineCommand('cacheGet', { numberOfKeys: 2, lua: GET });
    client.defineCommand('cacheSet', { numberOfKeys: 2, lua: SET });
    client.defineCommand('cacheInvalidate', { lua: INVALIDATE });
    client.on('error', (error: Error) => {
      this.connectionError = error.message;
      this.lastError = error.message;
    });
    client.on('ready', () => (this.connectionError = undefined));
    this.client = client as Redis & Scripts;
    options.metrics.redisUp.set(0);
    this.scheduleProbe(0);
  }

  get usable(): boolean {
    return this.state === 'up';
  }

  health(): { state: RedisState; error?: string } {
    return this.state === 'up' ? { state: 'up' } : { state: 'degraded', error: this.lastError };
  }

  async get(collection: string, id: string): Promise<RedisRead | undefined> {
    if (!this.usable) return undefined;
    try {
      const [epoch, applied, validAt, body] = await this.client.cacheGet(this.entryKey(collection, id), this.epochKey(collection), randomUUID());
      if (applied && validAt && body) {
        this.timeouts = 0;
        return { hit: true, epoch: epoch!, applied, validAt, body };
      }
      this.timeouts = 0;
      return { hit: false, epoch: epoch! };
    } catch (error) {
      this.fail(error, true);
      return undefined;
    }
  }

  /** True when written; false when a newer entry, a tombstone or a new epoch refused it (or Redis failed). */
  async set(collection: string, id: string, epoch: string, applied: string, validAt: string, body: string): Promise<boolean> {
    if (!this.usable) return false;
    try {
      const written = await this.client.cacheSet(this.entryKey(collection, id), this.epochKey(collection), epoch, applied, validAt, body, this.options.ttlMs);
      if (!written) this.options.metrics.staleSetsRejected.inc({ tier: 'redis' });
      return written === 1;
    } catch (error) {
      this.fail(error, true);
      return false;
    }
  }

  /**
   * Tombstones each [id, applied] of a collection. A time-out is retried (the script is
   * idempotent; the caller keeps distrusting these keys meanwhile); a failure, or time-outs to
   * the end, degrade the tier and void every entry before it is used again. Resolves false then.
   */
  async invalidate(collection: string, changes: [id: string, applied: string][]): Promise<boolean> {
    if (!changes.length) return true;
    if (!this.usable) return !(this.missed = true);
    const keys = changes.map(([id]) => this.entryKey(collection, id));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.cacheInvalidate(keys.length + 1, this.epochKey(collection), ...keys, this.options.ttlMs, ...changes.map(([, applied]) => applied));
        return true;
      } catch (error) {
        const timedOut = error instanceof Error && /timed out/i.test(error.message);
        if (timedOut && attempt < INVALIDATION_ATTEMPTS && this.usable) {
          this.options.metrics.redisErrors.inc();
          continue;
        }
        this.missed = true; // it may or may not have run
        this.fail(error);
        return false;
      }
    }
  }

  /** Voids every entry of these collections (a rebuild's swap, a resynchronisation). False when Redis could not be told. */
  async newEpoch(collections: string[]): Promise<boolean> {
    if (!this.usable) return !(this.missed = true);
    try {
      await this.client.mset(Object.fromEntries(collections.map((c) => [this.epochKey(c), randomUUID()])));
      return true;
    } catch (error) {
      this.missed = true;
      this.fail(error);
      return false;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probing);
    this.client.disconnect();
    return Promise.resolve();
  }

  /**
   * A failed call degrades the tier; a read or write that only timed out does so once several
   * did in a row (on a busy event loop a reply can come just after its timer): the read that
   * timed out goes to the store, which is safe. A failed invalidation always degrades it.
   */
  private fail(error: unknown, tolerable = false): void {
    this.options.metrics.redisErrors.inc();
    this.lastError = this.reasonOf(error);
    if (tolerable && /timed out/i.test(this.lastError) && ++this.timeouts < TIMEOUTS_BEFORE_DEGRADED) return;
    this.timeouts = 0;
    if (this.state === 'degraded') return;
    this.state = 'degraded';
    this.options.metrics.redisUp.set(0);
    this.options.logger?.warn({ err: error }, 'Redis cache degraded: reading the store until it answers again');
    this.scheduleProbe(this.options.probeMs ?? 500);
  }

  private scheduleProbe(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.probing);
    this.probing = setTimeout(() => void this.probe(), delayMs);
    this.probing.unref();
  }

  /**
   * Back in use once Redis answers; if an invalidation was missed meanwhile (or this is the
   * start: changes may have been made while no instance listened), only after every collection
   * got a new epoch. A time-out of reads or writes alone voids nothing.
   */
  private async probe(): Promise<void> {
    try {
      await this.client.ping();
      if (this.missed) {
        this.missed = false;
        await this.client.mset(Object.fromEntries(this.options.collections.map((c) => [this.epochKey(c), randomUUID()])));
        if (this.missed) return this.scheduleProbe(0); // another was missed while the epochs changed
      }
      if (this.closed) return;
      this.state = 'up';
      this.everUp = true;
      this.options.metrics.redisUp.set(1);
      this.options.logger?.info('Redis cache in use');
    } catch (error) {
      this.missed = true;
      this.lastError = this.reasonOf(error);
      // Said once, with the connection's reason: the API serves without Redis, and a connection lost later says so in fail().
      if (!this.everUp && !this.saidUnreachable && this.connectionError) {
        this.saidUnreachable = true;
        this.options.logger?.warn(stillTrying('Redis', this.options.url, this.lastError, 'reading the store until then'));
      }
      this.scheduleProbe(this.options.probeMs ?? 500);
    }
  }

  /** A failed call's reason; while the client is not connected, the connection's own error (the call was only refused). */
  private reasonOf(error: unknown): string {
    if (this.client.status !== 'ready' && this.connectionError) return this.connectionError;
    return error instanceof Error ? error.message : String(error);
  }

  private entryKey(collection: string, id: string): string {
    // The hash tag keeps a collection's entries and its epoch in one slot (one script, also on a cluster).
    return `${this.options.keyPrefix}{${collection}}:${id}`;
  }

  private epochKey(collection: string): string {
    return `${this.options.keyPrefix}{${collection}}`;
  }
}
