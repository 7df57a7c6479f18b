import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { HealthController, READINESS_CHECKS } from '../src/http/health';
import { commandHandling, writeCapabilities } from './capabilities';

/** The command side: HTTP routes → CommandBus → handlers → event store. */
@Module({})
export class CommandApiModule {
  static forRoot(pool: Pool): DynamicModule {
    return {
      module: CommandApiModule,
      imports: [CqrsModule.forRoot()],
      controllers: [...writeCapabilities.flatMap((capability) => capability.controllers), HealthController],
      providers: [...commandHandling(pool), { provide: READINESS_CHECKS, useValue: { postgres: () => pool.query('SELECT 1') } }],
    };
  }
}
