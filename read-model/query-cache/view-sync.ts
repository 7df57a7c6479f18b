import { Events, type NatsConnection } from 'nats';
import { ORIGIN_ORDER_KEY } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import { CheckpointNotice, checkpointSubject } from '../../src/nats';
import type { Checkpoint, ViewStore } from '../view-store/view-store';
import type { CacheMetrics } from './cache-metrics';
import type { QueryCache } from './query-cache';

/** How often the store's checkpoints are compared with the notices heard (a lost last notice shows there). */
const AUDIT_MS = 1_000;
const RETRY_MS = 1_000;

export interface SyncedView {
  /** Bumped by every resynchronisation: entries filled in an older epoch are void. */
  epoch: number;
  /** The last checkpoint whose changes this instance has applied to the cache. */
  heard: string;
  heardAt: number;
}

interface ViewState extends SyncedView {
  projection: string;
  collections: string[];
  inSync: boolean;
  known?: string;
  generation: number;
  /** Notices heard while a resynchronisation reads the checkpoint. */
  buffered: CheckpointNotice[];
  /** A store checkpoint past `heard` at the last audit. */
  behind?: string;
  waiters: Set<{ key: string; resolve: () => void }>;
}

export interface ViewSyncOptions {
  /** Each cached projection and the collections of it that are cached. */
  views: { projection: string; collections: string[] }[];
  namespace: string;
  store: Pick<ViewStore, 'checkpoint' | 'checkpoints'>;
  cache: QueryCache;
  metrics: CacheMetrics;
  logger?: Logger;
}

/**
 * Keeps the cache in step with the projectors' notices (core NATS). A view is served from the
 * cache only while every notice since its last resynchronisation was heard, in order: each
 * notice names the checkpoint it follows, so a lost one shows as a gap; a disconnection, a gap,
 * a rebuild's swap or a store checkpoint the notices never reached (the audit) resynchronises
 * it: new epoch, both tiers voided, the checkpoint read again. Meanwhile reads go to the store.
 */
export class ViewSync {
  private readonly states = new Map<string, ViewState>();
  private connected = false;
  private audit?: NodeJS.Timeout;
  private nc?: NatsConnection;

  constructor(private readonly options: ViewSyncOptions) {
    for (const { projection, collections } of options.views) {
      this.states.set(projection, {
        projection, collections, inSync: false, epoch: 0, heard: ORIGIN_ORDER_KEY, heardAt: 0, generation: 0, buffered: [], waiters: new Set(),
      });
      options.metrics.viewsInSync.set({ projection }, 0);
    }
    options.cache.use(this);
  }

  /** The view's state when the cache may serve it, else undefined. */
  usable(projection: string): SyncedView | undefined {
    const state = this.states.get(projection);
    return state?.inSync ? state : undefined;
  }

  /** Listens to the notices; every view is resynchronised once the subscription is in place, and after each reconnection. */
  async attach(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    nc.subscribe(checkpointSubject(this.options.namespace), {
      callback: (error, message) => {
        if (error) return;
        try {
          this.handle(JSON.parse(message.string()) as CheckpointNotice);
        } catch (cause) {
          this.options.logger?.warn({ err: cause }, 'unreadable view notice');
        }
      },
    });
    void this.watch(nc);
    await nc.flush(); // the server has the subscription: no notice after the checkpoint reads below is missed
    await this.listening();
  }

  /** Notices are being heard from now on (attach, or a test feeding handle()): every view resynchronises. */
  async listening(): Promise<void> {
    this.connected = true;
    clearInterval(this.audit);
    this.audit = setInterval(() => void this.compareWithStore(), AUDIT_MS);
    this.audit.unref();
    await Promise.all([...this.states.values()].map((state) => this.resync(state, 'start')));
  }

  detach(): void {
    clearInterval(this.audit);
    this.connected = false;
    for (const state of this.states.values()) this.leave(state);
  }

  /** One notice: its invalidations always apply; then it moves the view's position on, or reveals a gap. */
  handle(notice: CheckpointNotice): void {
    const state = this.states.get(notice.projection);
    if (!state) return;
    this.options.cache.invalidate(notice);
    if (notice.swapped) return void this.resync(state, 'rebuild swapped the view');
    if (notice.previous === undefined) return; // changes made outside the projector (a retried dead letter)
    if (state.known === undefined) state.buffered.push(notice);
    else this.advance(state, notice);
  }

  /**
   * Waits (bounded) until this instance has applied the notices up to each checkpoint, so that
   * once GET /projections reports a position no cached answer is older; a view whose notices
   * never come is resynchronised (served from the store meanwhile).
   */
  async coveredBy(checkpoints: Checkpoint[], timeoutMs = 1_000): Promise<void> {
    await Promise.all(
      checkpoints.map(async (checkpoint) => {
        const state = this.states.get(checkpoint.projection);
        if (!state?.inSync || state.heard >= checkpoint.orderKey) return;
        if (!(await this.heardUpTo(state, checkpoint.orderKey, timeoutMs))) await this.resync(state, 'notices did not reach the store checkpoint');
      }),
    );
  }

  health(): Record<string, 'in sync' | 'reading the store'> {
    return Object.fromEntries([...this.states.values()].map((s) => [s.projection, s.inSync ? 'in sync' : 'reading the store']));
  }

  private advance(state: ViewState, notice: CheckpointNotice): void {
    if (notice.orderKey <= state.known!) return;
    if (notice.previous !== state.known) return void this.resync(state, 'a notice was lost');
    state.known = notice.orderKey;
    state.heard = notice.orderKey;
    state.heardAt = Date.now();
    for (const waiter of state.waiters) if (waiter.key <= state.heard) waiter.resolve();
  }

  private async resync(state: ViewState, reason: string): Promise<void> {
    const generation = this.leave(state);
    state.epoch++;
    this.options.logger?.debug({ projection: state.projection, reason }, 'resynchronising the read cache');
    await this.options.cache.drop(state.collections);
    if (!this.connected || generation !== state.generation) return;
    let checkpoint: Checkpoint | undefined;
    try {
      checkpoint = await this.options.store.checkpoint(state.projection);
    } catch (error) {
      this.options.logger?.warn({ err: error, projection: state.projection }, 'read cache: checkpoint unreadable, retrying');
      setTimeout(() => void (generation === state.generation && this.resync(state, reason)), RETRY_MS).unref();
      return;
    }
    if (generation !== state.generation) return;
    state.known = checkpoint?.orderKey ?? ORIGIN_ORDER_KEY;
    state.heard = state.known;
    state.heardAt = Date.now();
    const buffered = state.buffered;
    state.buffered = [];
    for (const notice of buffered) this.advance(state, notice);
    if (generation !== state.generation) return; // a gap in what was buffered started another round
    state.inSync = true;
    this.options.metrics.viewsInSync.set({ projection: state.projection }, 1);
  }

  /** Stops serving the view from the cache; returns the generation of the resynchronisation to come. */
  private leave(state: ViewState): number {
    state.inSync = false;
    state.known = undefined;
    state.buffered = [];
    state.behind = undefined;
    this.options.metrics.viewsInSync.set({ projection: state.projection }, 0);
    return ++state.generation;
  }

  private heardUpTo(state: ViewState, key: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = {
        key,
        resolve: () => {
          clearTimeout(timer);
          state.waiters.delete(waiter);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        state.waiters.delete(waiter);
        resolve(state.heard >= key);
      }, timeoutMs);
      state.waiters.add(waiter);
    });
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) {
        this.connected = false;
        for (const state of this.states.values()) this.leave(state);
      } else if (status.type === Events.Reconnect) {
        this.connected = true;
        for (const state of this.states.values()) void this.resync(state, 'NATS reconnected');
      }
    }
  }

  /** A checkpoint the notices had not reached at the last audit and still have not: the notice was lost. */
  private async compareWithStore(): Promise<void> {
    if (!this.connected || this.nc?.isClosed() === true) return;
    const checkpoints = await this.options.store.checkpoints().catch(() => []);
    for (const checkpoint of checkpoints) {
      const state = this.states.get(checkpoint.projection);
      if (!state?.inSync) continue;
      if (state.behind && state.heard < state.behind) {
        void this.resync(state, 'a notice was lost (store checkpoint ahead)');
        continue;
      }
      state.behind = checkpoint.orderKey > state.heard ? checkpoint.orderKey : undefined;
    }
  }
}
