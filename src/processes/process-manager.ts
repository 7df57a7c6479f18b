import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { AppendSignal } from '../../write-model/event-store/append-signal';
import { OrderLocks } from '../../write-model/leases/order-locks';
import { OrderSaga } from '../../write-model/order-saga/order-saga';
import { PaymentWorker } from '../../write-model/order-saga/payment-worker';
import { SagaConsumer } from '../../write-model/order-saga/saga-consumer';
import { measuredGateway, sagaMetrics } from '../../write-model/order-saga/saga-metrics';
import { SagaStore } from '../../write-model/order-saga/saga-store';
import type { PaymentGateway } from '../../write-model/payments/payment-gateway';
import { PaymentSimulator } from '../../write-model/payments/payment-simulator';
import { ProcessManagerModule } from '../../write-model/process-manager.module';
import { AggregateStore } from '../../write-model/shared/aggregate-store';
import { aggregateMetrics } from '../../write-model/shared/command-metrics';
import type { Config } from '../config';
import { OpsServer, opsServerFor } from '../http/ops-server';
import type { Logger } from '../logger';
import { createRegistry } from '../metrics';
import { closeNats, connectNats } from '../nats';
import { createPool } from '../postgres';

/** The process manager: drives the order saga from JetStream, sending commands through the CommandBus. */
export async function startProcessManager(
  config: Config,
  logger: Logger,
  options: { gateway?: PaymentGateway; ops?: OpsServer } = {},
): Promise<{ gateway: PaymentGateway; opsPort: number; drain(): void; stop(): Promise<void> }> {
  const pool = createPool(config.databaseUrl, { max: 10, clientName: 'converge process-manager' });
  // The saga's commands wake the relay like the command API's (once NATS is connected, below).
  const signal = new AppendSignal(config.namespace);
  const registry = createRegistry();
  const context = await NestFactory.createApplicationContext(
    // The saga's commands go through an aggregate store like the command API's: its lost races and kept aggregates are counted here.
    ProcessManagerModule.forRoot(pool, { signal, cacheSize: config.aggregateCacheSize, metrics: aggregateMetrics(registry) }),
    { logger: false },
  );
  const bus = context.get(CommandBus);
  // The simulator keeps its books in the write store, where every replica and restart finds them.
  const gateway = options.gateway ?? new PaymentSimulator(pool);
  const sagas = new SagaStore(pool);
  const metrics = sagaMetrics(registry, () => sagas.awaitingPayment());
  const measured = measuredGateway(gateway, registry);
  const worker = new PaymentWorker({
    bus,
    sagas,
    gateway: measured,
    logger,
    gatewayTimeoutMs: config.paymentGatewayTimeoutMs,
    concurrency: config.paymentConcurrency,
    metrics,
  });
  const saga = new OrderSaga({
    bus,
    aggregates: context.get(AggregateStore),
    sagas,
    gateway: measured,
    logger,
    metrics,
    paymentDeadlineMs: config.paymentDeadlineMs,
    gatewayTimeoutMs: config.paymentGatewayTimeoutMs,
  });
  const nc = await connectNats(config.natsUrl, `converge-process-manager ${config.replicaId}`, logger);
  signal.attach(nc);
  // Replicas share the saga's durable consumer; each order's steps run under its lock.
  const lockPool = createPool(config.databaseUrl, { max: 8, clientName: 'converge process-manager locks' });
  const locks = new OrderLocks(lockPool, config.namespace);
  const consumer = new SagaConsumer({
    nc,
    namespace: config.namespace,
    saga,
    logger,
    serialize: (orderId, step) => locks.withLock(orderId, step),
    afterEvent: (event) => event.type === 'OrderStockReserved' && worker.wake(),
  });
  try {
    await consumer.start();
  } catch (error) {
    // NATS or PostgreSQL went away mid-start: release everything, the caller starts afresh.
    await consumer.stop().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await context.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
  worker.start();
  const ops = await opsServerFor(options.ops, {
    port: config.ops.processManagerPort,
    registry,
    logger,
    checks: { postgres: () => pool.query('SELECT 1'), nats: () => nc.flush() },
  });
  logger.info({ opsPort: ops.port }, 'process manager running');
  return {
    gateway,
    opsPort: ops.port,
    drain: () => ops.drain(),
    async stop() {
      await ops.close();
      await consumer.stop();
      await worker.stop();
      await closeNats(nc);
      await context.close();
      await lockPool.end();
      await pool.end();
    },
  };
}
