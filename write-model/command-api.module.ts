import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { HealthController, READINESS_CHECKS } from '../src/http/health';
import { METRICS_REGISTRY, MetricsController } from '../src/http/metrics';
import { commandHandling, writeCapabilities } from './capabilities';
import type { AppendSignal } from './event-store/append-signal';
import { CommandCollector, commandMetrics } from './shared/command-metrics';

/** The command routes, capability by capability. */
export const COMMAND_CONTROLLERS = writeCapabilities.flatMap((capability) => capability.controllers);

/** The command side: HTTP routes → CommandBus → handlers → event store. */
@Module({})
export class CommandApiModule {
  /**
   * `cacheSize`: aggregates kept between commands (AGGREGATE_CACHE_SIZE; none by default).
   * `metrics`: the collector on `registry` (made here when not given; the command API process
   * makes it, since it counts the routes' answers as the request log sees them: commandOutcomes).
   */
  static forRoot(
    pool: Pool,
    options: { registry?: Registry; metrics?: CommandCollector; signal?: AppendSignal; cacheSize?: number } = {},
  ): DynamicModule {
    const registry = options.registry ?? new Registry();
    const metrics = options.metrics ?? commandMetrics(registry);
    return {
      module: CommandApiModule,
      imports: [CqrsModule.forRoot()],
      controllers: [...COMMAND_CONTROLLERS, HealthController, MetricsController],
      providers: [
        ...commandHandling(pool, { metrics, signal: options.signal, cacheSize: options.cacheSize }),
        { provide: READINESS_CHECKS, useValue: { postgres: () => pool.query('SELECT 1') } },
        { provide: METRICS_REGISTRY, useValue: registry },
      ],
    };
  }
}
