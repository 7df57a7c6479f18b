import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PaymentGateway } from '../payments/payment-gateway';

/** What the order saga reports; passed in, a no-op by default. */
export interface SagaCollector {
  /** The saga handles an event (its step) for one order: in flight until `stepDone`. */
  stepStarted(step: string): void;
  stepDone(step: string): void;
  compensated(reason: string): void;
  deadlineExpired(): void;
}

export const noSagaMetrics: SagaCollector = {
  stepStarted: () => undefined,
  stepDone: () => undefined,
  compensated: () => undefined,
  deadlineExpired: () => undefined,
};

/**
 * `converge_saga_*` on the process manager's registry. Orders waiting for their payment are
 * counted from the saga table when scraped (`awaitingPayment`): that step outlives a restart.
 */
export function sagaMetrics(registry: Registry, awaitingPayment: () => Promise<number>): SagaCollector {
  const registers = [registry];
  const handling = new Map<string, number>();
  new Gauge({
    name: 'converge_saga_in_flight',
    help: 'sagas in flight by step (authorize-payment: orders waiting for the payment step, from the saga table)',
    labelNames: ['step'],
    registers,
    async collect() {
      this.reset();
      for (const [step, count] of handling) this.set({ step }, count);
      this.set({ step: 'authorize-payment' }, await awaitingPayment());
    },
  });
  const compensations = new Counter({
    name: 'converge_saga_compensations_total',
    help: 'orders compensated (stock released, payment refunded), by reason',
    labelNames: ['reason'],
    registers,
  });
  const expirations = new Counter({
    name: 'converge_saga_deadline_expirations_total',
    help: 'payment steps cancelled because their deadline passed',
    registers,
  });
  return {
    stepStarted: (step) => handling.set(step, (handling.get(step) ?? 0) + 1),
    stepDone: (step) => handling.set(step, Math.max(0, (handling.get(step) ?? 1) - 1)),
    compensated: (reason) => compensations.inc({ reason }),
    deadlineExpired: () => expirations.inc(),
  };
}

/** Wraps a payment gateway so each call's latency and failures are measured (`converge_payment_gateway_*`). */
export function measuredGateway(gateway: PaymentGateway, registry: Registry): PaymentGateway {
  const registers = [registry];
  const latency = new Histogram({
    name: 'converge_payment_gateway_request_duration_seconds',
    help: 'payment gateway calls by operation and outcome (ok, declined, error)',
    labelNames: ['operation', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const errors = new Counter({
    name: 'converge_payment_gateway_errors_total',
    help: 'payment gateway calls that failed (unavailable, timed out), by operation and error',
    labelNames: ['operation', 'error'],
    registers,
  });
  const measure = async <T>(operation: string, call: () => Promise<T>, outcome: (result: T) => string = () => 'ok'): Promise<T> => {
    const started = performance.now();
    try {
      const result = await call();
      latency.observe({ operation, outcome: outcome(result) }, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      latency.observe({ operation, outcome: 'error' }, (performance.now() - started) / 1000);
      errors.inc({ operation, error: error instanceof Error ? error.name : 'Error' });
      throw error;
    }
  };
  return {
    authorize: (request, options) =>
      measure(
        'authorize',
        () => gateway.authorize(request, options),
        (r) => (r.outcome === 'approved' ? 'ok' : 'declined'),
      ),
    capture: (request, options) => measure('capture', () => gateway.capture(request, options)),
    refund: (request, options) => measure('refund', () => gateway.refund(request, options)),
  };
}
