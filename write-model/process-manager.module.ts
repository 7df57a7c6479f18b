import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { commandHandling } from './capabilities';
import type { AppendSignal } from './event-store/append-signal';
import type { AggregateCollector } from './shared/command-metrics';

/** The command handlers without HTTP: what the process manager sends its commands through. */
@Module({})
export class ProcessManagerModule {
  /** `cacheSize`: aggregates kept between commands (AGGREGATE_CACHE_SIZE; none by default); `metrics`: what the aggregate store reports. */
  static forRoot(pool: Pool, options: { signal?: AppendSignal; cacheSize?: number; metrics?: AggregateCollector } = {}): DynamicModule {
    return {
      module: ProcessManagerModule,
      imports: [CqrsModule.forRoot()],
      providers: commandHandling(pool, options),
    };
  }
}
