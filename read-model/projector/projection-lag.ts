import type { NatsConnection } from 'nats';
import { decodeEvent } from '../../src/contracts';
import { eventStreamName, projectionConsumerName } from '../../src/nats';

/** How far a projection is behind the stream, as its durable consumer on the server sees it. */
export interface ProjectionLag {
  /** Events in the stream the projection has not applied (acknowledged) yet. */
  events: number;
  /** Age of the oldest of them; 0 without a backlog. */
  seconds: number;
  /** Stream sequence the projection has acknowledged up to: it moves whenever a batch commits. */
  acknowledged: number;
}

/**
 * Measures lag from the JetStream server alone (consumer info and one stored message), so any
 * process with a NATS connection can tell it while the projector itself is down or hung: the
 * durable consumer outlives its subscriber and keeps counting what arrives.
 * Undefined while the consumer does not exist yet (the projection never ran).
 */
export class ProjectionLagProbe {
  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
  ) {}

  async measure(projection: string, now = Date.now()): Promise<ProjectionLag | undefined> {
    const jsm = await this.nc.jetstreamManager({ checkAPI: false });
    const stream = eventStreamName(this.namespace);
    let info;
    try {
      info = await jsm.consumers.info(stream, projectionConsumerName(this.namespace, projection));
    } catch (error) {
      if (/consumer not found|stream not found/i.test(String(error))) return undefined;
      throw error;
    }
    const events = info.num_pending + info.num_ack_pending;
    const acknowledged = info.ack_floor.stream_seq;
    if (events === 0) return { events, seconds: 0, acknowledged };
    // The projector acknowledges a batch once committed (ack-all): the oldest unapplied event follows the ack floor.
    const oldest = await jsm.streams.getMessage(stream, { seq: acknowledged + 1 }).catch(() => undefined);
    const recordedAt = oldest ? decodeEvent(oldest.data).recordedAt.getTime() : now;
    return { events, seconds: Math.max(0, now - recordedAt) / 1000, acknowledged };
  }
}
