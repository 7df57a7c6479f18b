import type { LeaseFence, ViewLeases } from './view-store';

/**
 * A lease in the read store on work that one replica at a time should do (the lag watchdog's
 * alerts): `held()` renews it while this owner holds it, and takes it when it is free or has
 * expired, so a standby takes over within `ttlMs` of the holder's end.
 */
export class SoleLease {
  private fence?: LeaseFence;

  constructor(
    private readonly leases: ViewLeases,
    readonly name: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** Whether this owner holds the lease now (renewed or just taken); throws while the store cannot say. */
  async held(): Promise<boolean> {
    if (this.fence && (await this.leases.renewLease(this.fence, this.owner, this.ttlMs))) return true;
    this.fence = undefined;
    const lease = await this.leases.acquireLease(this.name, this.owner, this.ttlMs);
    if (lease) this.fence = { name: lease.name, token: lease.token };
    return this.fence !== undefined;
  }

  /** Lets the lease go at once, so a standby takes over without waiting for it to expire. */
  async release(): Promise<void> {
    const fence = this.fence;
    this.fence = undefined;
    if (fence) await this.leases.releaseLease(fence, this.owner).catch(() => undefined);
  }
}
