import { DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { HealthController, READINESS_CHECKS } from '../src/http/health';
import { METRICS_REGISTRY, MetricsController } from '../src/http/metrics';
import { commandHandling, writeCapabilities } from './capabilities';
import type { AppendSignal } from './event-store/append-signal';
import { commandMetrics, CommandOutcomes } from './shared/command-metrics';

/** The command side: HTTP routes → CommandBus → handlers → event store. */
@Module({})
export class CommandApiModule {
  /** `cacheSize`: aggregates kept between commands (AGGREGATE_CACHE_SIZE; none by default). */
  static forRoot(pool: Pool, options: { registry?: Registry; signal?: AppendSignal; cacheSize?: number } = {}): DynamicModule {
    const registry = options.registry ?? new Registry();
    const metrics = commandMetrics(registry);
    return {
      module: CommandApiModule,
      imports: [CqrsModule.forRoot()],
      controllers: [...writeCapabilities.flatMap((capability) => capability.controllers), HealthController, MetricsController],
      providers: [
        ...commandHandling(pool, { metrics, signal: options.signal, cacheSize: options.cacheSize }),
        { provide: READINESS_CHECKS, useValue: { postgres: () => pool.query('SELECT 1') } },
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: APP_INTERCEPTOR, useValue: new CommandOutcomes(metrics) },
      ],
    };
  }
}
