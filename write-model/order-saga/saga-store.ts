import type { Pool } from 'pg';
import type { Money } from '../../src/contracts';

export type SagaStatus = 'authorizing' | 'authorized' | 'declined' | 'timed_out' | 'abandoned';

export interface PaymentStep {
  orderId: string;
  status: SagaStatus;
  paymentToken: string;
  amount: Money;
  deadline: Date;
  attempts: number;
  /** The request that placed the order and the event that started the step (absent on steps older than both). */
  cause?: PaymentCause;
}

export interface PaymentCause {
  correlationId: string;
  causationId: string;
}

/** A row of order_sagas as the queries below return it. */
interface SagaRow {
  order_id: string;
  status: SagaStatus;
  payment_token: string;
  amount: Money;
  deadline: Date;
  attempts: number;
  correlation_id: string | null;
  causation_id: string | null;
}

const STEP_COLUMNS = 'order_id, status, payment_token, amount, deadline, attempts, correlation_id, causation_id';

function stepOf(r: SagaRow): PaymentStep {
  return {
    orderId: r.order_id,
    status: r.status,
    paymentToken: r.payment_token,
    amount: r.amount,
    deadline: r.deadline,
    attempts: r.attempts,
    ...(r.correlation_id !== null && { cause: { correlationId: r.correlation_id, causationId: r.causation_id ?? r.order_id } }),
  };
}

/** The order saga's state in PostgreSQL: short transactions only, never held across a gateway call. */
export class SagaStore {
  constructor(private readonly pool: Pool) {}

  /** Starts the payment step once per order; a redelivered event finds it started. */
  async startAuthorization(orderId: string, paymentToken: string, amount: Money, deadline: Date, cause: PaymentCause): Promise<void> {
    await this.pool.query(
      `INSERT INTO order_sagas (order_id, status, payment_token, amount, deadline, next_attempt_at, correlation_id, causation_id)
       VALUES ($1, 'authorizing', $2, $3, $4, now(), $5, $6) ON CONFLICT (order_id) DO NOTHING`,
      [orderId, paymentToken, JSON.stringify(amount), deadline, cause.correlationId, cause.causationId],
    );
  }

  /**
   * Claims payment steps that are due, leasing them for `leaseMs` so that another worker (or
   * this one after a crash) takes them up again only when the lease ran out.
   */
  async claimDue(limit: number, leaseMs: number): Promise<PaymentStep[]> {
    const { rows } = await this.pool.query<SagaRow>(
      `UPDATE order_sagas SET next_attempt_at = now() + $2 * interval '1 millisecond', attempts = attempts + 1, updated_at = now()
       WHERE order_id IN (
         SELECT order_id FROM order_sagas WHERE status = 'authorizing' AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${STEP_COLUMNS}`,
      [limit, leaseMs],
    );
    return rows.map(stepOf);
  }

  async retryAt(orderId: string, at: Date, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE order_sagas SET next_attempt_at = $2, last_error = $3, updated_at = now() WHERE order_id = $1 AND status = 'authorizing'`,
      [orderId, at, error],
    );
  }

  async finish(orderId: string, status: Exclude<SagaStatus, 'authorizing'>): Promise<void> {
    await this.pool.query(`UPDATE order_sagas SET status = $2, updated_at = now() WHERE order_id = $1`, [orderId, status]);
  }

  async get(orderId: string): Promise<PaymentStep | undefined> {
    const { rows } = await this.pool.query<SagaRow>(`SELECT ${STEP_COLUMNS} FROM order_sagas WHERE order_id = $1`, [orderId]);
    return rows[0] && stepOf(rows[0]);
  }

  /** Orders whose payment step is still open. */
  async awaitingPayment(): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(`SELECT count(*) FROM order_sagas WHERE status = 'authorizing'`);
    return Number(rows[0].count);
  }

  /** When the next payment step falls due (to sleep exactly that long). */
  async nextDue(): Promise<Date | undefined> {
    const { rows } = await this.pool.query<{ due: Date | null }>(
      `SELECT min(next_attempt_at) AS due FROM order_sagas WHERE status = 'authorizing'`,
    );
    return rows[0]?.due ?? undefined;
  }
}
