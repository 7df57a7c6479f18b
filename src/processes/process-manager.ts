import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { OrderLocks } from '../../write-model/leases/order-locks';
import { OrderSaga } from '../../write-model/order-saga/order-saga';
import { PaymentWorker } from '../../write-model/order-saga/payment-worker';
import { SagaConsumer } from '../../write-model/order-saga/saga-consumer';
import { SagaStore } from '../../write-model/order-saga/saga-store';
import type { PaymentGateway } from '../../write-model/payments/payment-gateway';
import { PaymentSimulator } from '../../write-model/payments/payment-simulator';
import { ProcessManagerModule } from '../../write-model/process-manager.module';
import { AggregateStore } from '../../write-model/shared/aggregate-store';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { connectNats } from '../nats';
import { createPool } from '../postgres';

/** The process manager: drives the order saga from JetStream, sending commands through the CommandBus. */
export async function startProcessManager(
  config: Config,
  logger: Logger,
  options: { gateway?: PaymentGateway } = {},
): Promise<{ gateway: PaymentGateway; stop(): Promise<void> }> {
  const pool = createPool(config.databaseUrl, { max: 10 });
  const context = await NestFactory.createApplicationContext(ProcessManagerModule.forRoot(pool), { logger: false });
  const bus = context.get(CommandBus);
  const gateway = options.gateway ?? new PaymentSimulator();
  const sagas = new SagaStore(pool);
  const worker = new PaymentWorker({ bus, sagas, gateway, logger, gatewayTimeoutMs: config.paymentGatewayTimeoutMs });
  const saga = new OrderSaga({
    bus,
    aggregates: context.get(AggregateStore),
    sagas,
    gateway,
    logger,
    paymentDeadlineMs: config.paymentDeadlineMs,
    gatewayTimeoutMs: config.paymentGatewayTimeoutMs,
  });
  const nc = await connectNats(config.natsUrl, `converge-process-manager ${config.replicaId}`, logger);
  // Replicas share the saga's durable consumer; each order's steps run under its lock.
  const lockPool = createPool(config.databaseUrl, { max: 8 });
  const locks = new OrderLocks(lockPool, config.namespace);
  const consumer = new SagaConsumer({
    nc,
    namespace: config.namespace,
    saga,
    logger,
    serialize: (orderId, step) => locks.withLock(orderId, step),
    afterEvent: (event) => event.type === 'OrderStockReserved' && worker.wake(),
  });
  await consumer.start();
  worker.start();
  logger.info('process manager running');
  return {
    gateway,
    async stop() {
      await consumer.stop();
      await worker.stop();
      await nc.drain().catch(() => undefined);
      await context.close();
      await lockPool.end();
      await pool.end();
    },
  };
}
