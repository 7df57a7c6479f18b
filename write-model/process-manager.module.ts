import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { commandHandling } from './capabilities';

/** The command handlers without HTTP: what the process manager sends its commands through. */
@Module({})
export class ProcessManagerModule {
  static forRoot(pool: Pool): DynamicModule {
    return {
      module: ProcessManagerModule,
      imports: [CqrsModule.forRoot()],
      providers: commandHandling(pool),
    };
  }
}
