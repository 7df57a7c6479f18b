import { Collection, Db, MongoServerError } from 'mongodb';
import { LEASES_COLLECTION } from '../../migrations/mongo/indexes';
import type { Lease, LeaseFence, ViewLeases } from './view-store';

const DUPLICATE_KEY = 11000;

interface LeaseRecord {
  _id: string;
  owner: string;
  token: number;
  acquiredAt: Date;
  renewedAt: Date;
  expiresAt: Date;
}

/**
 * Leases as documents of converge.leases (the name is the _id). MongoDB has no server clock
 * an update can read without aggregation pipelines, so times are the replica's own: replicas
 * must keep their clocks in step (NTP) to well within a lease's time to live. A claim is one
 * conditional findOneAndUpdate (or an insert, unique on _id), so two replicas never both win.
 */
export class MongoViewLeases implements ViewLeases {
  constructor(private readonly db: Db) {}

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlMs);
    const taken = await this.records().findOneAndUpdate(
      { _id: name, expiresAt: { $lte: now } },
      { $set: { owner, acquiredAt: now, renewedAt: now, expiresAt }, $inc: { token: 1 } },
      { returnDocument: 'after' },
    );
    if (taken) return toLease(taken);
    const record: LeaseRecord = { _id: name, owner, token: 1, acquiredAt: now, renewedAt: now, expiresAt };
    try {
      await this.records().insertOne(record);
      return toLease(record);
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return undefined;
      throw error;
    }
  }

  async renewLease(fence: LeaseFence, owner: string, ttlMs: number): Promise<boolean> {
    const now = new Date();
    const { matchedCount } = await this.records().updateOne(
      { _id: fence.name, token: fence.token, owner, expiresAt: { $gt: now } },
      { $set: { renewedAt: now, expiresAt: new Date(now.getTime() + ttlMs) } },
    );
    return matchedCount === 1;
  }

  async releaseLease(fence: LeaseFence, owner: string): Promise<void> {
    const now = new Date();
    await this.records().updateOne({ _id: fence.name, token: fence.token, owner, expiresAt: { $gt: now } }, { $set: { expiresAt: now } });
  }

  async heartbeat(name: string, owner: string, ttlMs: number): Promise<void> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlMs);
    const { matchedCount } = await this.records().updateOne({ _id: name, owner }, { $set: { renewedAt: now, expiresAt } });
    if (matchedCount === 1) return;
    await this.records().updateOne(
      { _id: name },
      { $set: { owner, acquiredAt: now, renewedAt: now, expiresAt }, $inc: { token: 1 } },
      { upsert: true },
    );
  }

  async leases(): Promise<{ leases: Lease[]; now: Date }> {
    const found = await this.records().find({}, { sort: { _id: 1 } }).toArray();
    return { leases: found.map(toLease), now: new Date() };
  }

  /** Whether `fence` still holds its lease unexpired (checked before a commit's writes). */
  async holds(fence: LeaseFence): Promise<boolean> {
    return (await this.records().countDocuments({ _id: fence.name, token: fence.token, expiresAt: { $gt: new Date() } })) === 1;
  }

  private records(): Collection<LeaseRecord> {
    return this.db.collection<LeaseRecord>(LEASES_COLLECTION);
  }
}

function toLease(raw: LeaseRecord): Lease {
  return { name: raw._id, owner: raw.owner, token: raw.token, acquiredAt: raw.acquiredAt, renewedAt: raw.renewedAt, expiresAt: raw.expiresAt };
}
