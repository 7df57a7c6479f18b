import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
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
  // The simulator keeps its books in the write store, where every replica and restart finds them.
  const gateway = options.gateway ?? new PaymentSimulator(pool);
  const sagas = new SagaStore(pool);
  const worker = new PaymentWorker({
    bus,
    sagas,
    gateway,
    logger,
    gatewayTimeoutMs: config.paymentGatewayTimeoutMs,
    concurrency: config.paymentConcurrency,
  });
  const saga = new OrderSaga({
    bus,
    aggregates: context.get(AggregateStore),
    sagas,
    gateway,
    logger,
    paymentDeadlineMs: config.paymentDeadlineMs,
    gatewayTimeoutMs: config.paymentGatewayTimeoutMs,
  });
  const nc = await connectNats(config.natsUrl, 'converge-process-manager', logger);
  const consumer = new SagaConsumer({
    nc,
    namespace: config.namespace,
    saga,
    logger,
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
  logger.info('process manager running');
  return {
    gateway,
    async stop() {
      await consumer.stop();
      await worker.stop();
      await nc.drain().catch(() => undefined);
      await context.close();
      await pool.end();
    },
  };
}
