import type { Logger } from '../../src/logger';
import type { LeaseFence, ViewLeases } from '../view-store/view-store';

/** Lease names in the read store: one per projection, one per live projector replica. */
export const projectionLeaseName = (projection: string) => `projection/${projection}`;
export const PROJECTOR_MEMBER_PREFIX = 'projector-replica/';

/** A projection being run by this replica under its lease. */
export interface OwnedWork {
  stop(): Promise<void>;
}

export interface OwnershipOptions {
  leases: ViewLeases;
  /** The projections this replica may run. */
  projections: string[];
  /** Names this replica in logs and in `converge status` (CONVERGE_REPLICA_ID). */
  replicaId: string;
  /** This process instance: the replica id made unique per start, so a restarted replica is a new owner. */
  owner: string;
  /** How long a lease outlives its last renewal: the failover bound is about this plus one tick. */
  ttlMs: number;
  logger: Logger;
  /** Starts the projection under `fence`; `lost` is called if a commit finds the lease gone. */
  start(projection: string, fence: LeaseFence, lost: () => void): Promise<OwnedWork>;
}

interface Held {
  fence: LeaseFence;
  /** The projection starting or running; undefined once a start failed. */
  work: Promise<OwnedWork | undefined>;
}

/**
 * Which projections this projector replica runs. Every tick (a quarter of the lease's time to
 * live) it marks itself alive, renews the leases it holds (stopping any projection whose lease
 * is gone), and moves towards its fair share, ceil(projections / live replicas): it claims free
 * or expired leases while below it and hands one back (stopped first, then released) while above
 * it. So projections spread across replicas, and a dead replica's are claimed once they expire.
 * A claimed projection starts in the background: a start that waits (on a lock a paused peer
 * holds, on JetStream) never holds up the renewals of the leases already held.
 */
export class ProjectionOwnership {
  private readonly held = new Map<string, Held>();
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly tickMs: number;

  constructor(private readonly options: OwnershipOptions) {
    this.tickMs = Math.max(50, Math.floor(options.ttlMs / 4));
  }

  /** The projections this replica holds now. */
  get owned(): string[] {
    return [...this.held.keys()].sort();
  }

  /** Takes a first share at once, then keeps ownership current in the background. */
  async start(): Promise<void> {
    this.running = true;
    await this.tick().catch((error) => this.options.logger.warn({ err: error }, 'projection leases: first round failed'));
    this.loop = this.run();
    await Promise.all([...this.held.values()].map((held) => held.work));
  }

  /** Stops every projection held and releases its lease, so a standby takes it over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.all(this.owned.map((projection) => this.handBack(projection)));
    await this.options.leases.heartbeat(this.memberName, this.options.owner, 0).catch(() => undefined);
  }

  private get memberName(): string {
    return PROJECTOR_MEMBER_PREFIX + this.options.replicaId;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, this.tickMs).unref();
      });
      if (!this.running) return;
      await this.tick().catch((error) => this.options.logger.warn({ err: error }, 'projection leases: round failed, retrying'));
    }
  }

  private async tick(): Promise<void> {
    const { leases, owner, ttlMs, projections } = this.options;
    // Membership first: it expires before the projection leases renewed after it, so a standby
    // counts a dead replica out by the time that replica's projections come free.
    await leases.heartbeat(this.memberName, owner, ttlMs);
    for (const [projection, { fence }] of this.held) {
      if (!(await leases.renewLease(fence, owner, ttlMs))) await this.lose(projection);
    }
    const { leases: all, now } = await leases.leases();
    const live = all.filter((lease) => lease.expiresAt > now);
    const members = Math.max(1, live.filter((lease) => lease.name.startsWith(PROJECTOR_MEMBER_PREFIX)).length);
    const share = Math.ceil(projections.length / members);
    if (this.held.size > share) {
      await this.handBack(this.owned[this.owned.length - 1]);
      return;
    }
    const taken = new Set(live.map((lease) => lease.name));
    for (const projection of projections) {
      if (this.held.size >= share || !this.running) break;
      if (this.held.has(projection) || taken.has(projectionLeaseName(projection))) continue;
      const lease = await leases.acquireLease(projectionLeaseName(projection), owner, ttlMs);
      if (!lease) continue;
      const fence = { name: lease.name, token: lease.token };
      this.options.logger.info({ projection, token: lease.token, replica: this.options.replicaId }, 'projection lease taken');
      this.held.set(projection, { fence, work: this.launch(projection, fence) });
    }
  }

  /** Starts the projection under its lease; a failed start lets the lease go for another try. */
  private async launch(projection: string, fence: LeaseFence): Promise<OwnedWork | undefined> {
    try {
      return await this.options.start(projection, fence, () => void this.lose(projection, fence));
    } catch (error) {
      this.options.logger.warn({ projection, err: error }, 'projection failed to start under its lease; releasing it');
      if (this.held.get(projection)?.fence.token === fence.token) this.held.delete(projection);
      await this.options.leases.releaseLease(fence, this.options.owner).catch(() => undefined);
      return undefined;
    }
  }

  /** The lease is gone (expired and maybe taken): stop writing, hold nothing. */
  private async lose(projection: string, fence?: LeaseFence): Promise<void> {
    const held = this.held.get(projection);
    if (!held || (fence && held.fence.token !== fence.token)) return;
    this.held.delete(projection);
    this.options.logger.warn({ projection, token: held.fence.token, replica: this.options.replicaId }, 'projection lease lost; stopped');
    await (await held.work)?.stop().catch(() => undefined);
  }

  /** Stops the projection cleanly (its last batch committed), then lets its lease go. */
  private async handBack(projection: string): Promise<void> {
    const held = this.held.get(projection);
    if (!held) return;
    this.held.delete(projection);
    await (await held.work)?.stop().catch(() => undefined);
    await this.options.leases.releaseLease(held.fence, this.options.owner).catch(() => undefined);
    this.options.logger.info({ projection, replica: this.options.replicaId }, 'projection lease released');
  }
}

