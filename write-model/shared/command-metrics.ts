import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Counter, Registry } from 'prom-client';
import type { Observable } from 'rxjs';

export type CommandOutcome = 'ok' | 'conflict' | 'rejected' | 'precondition_failed' | 'forbidden' | 'validation_error' | 'error';

/** What the command side reports; passed in, a no-op by default (unit specs, the process manager). */
export interface CommandCollector {
  command(type: string, outcome: CommandOutcome): void;
  /** A lost optimistic race that was decided and appended again. */
  optimisticRetry(streamType: string): void;
  /**
   * An aggregate a decision read from the aggregates the command side keeps ('hit') or from the
   * store ('miss'); or a decision on kept states decided again on the store's ('stale').
   */
  keptState(result: 'hit' | 'miss' | 'stale'): void;
}

/** What an aggregate store reports: the part of the collector that is not about HTTP answers. */
export type AggregateCollector = Pick<CommandCollector, 'optimisticRetry' | 'keptState'>;

export const noCommandMetrics: CommandCollector = {
  command: () => undefined,
  optimisticRetry: () => undefined,
  keptState: () => undefined,
};

/** The command API's collector: its answers by outcome, and what its aggregate store reports (aggregateMetrics). */
export function commandMetrics(registry: Registry): CommandCollector {
  const commands = new Counter({
    name: 'converge_commands_total',
    help: 'commands answered, by type (the operation id) and outcome',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  return { command: (type, outcome) => commands.inc({ type, outcome }), ...aggregateMetrics(registry) };
}

/** What an aggregate store reports: lost races and kept aggregates (the command API's and the process manager's). */
export function aggregateMetrics(registry: Registry): AggregateCollector {
  const registers = [registry];
  const retries = new Counter({
    name: 'converge_command_optimistic_retries_total',
    help: 'appends that lost an optimistic race and were decided again',
    labelNames: ['stream_type'],
    registers,
  });
  const reads = new Counter({
    name: 'converge_aggregate_cache_reads_total',
    help: 'aggregates a decision read from the states the command side keeps (result="hit") or from the store (result="miss")',
    labelNames: ['result'],
    registers,
  });
  const stale = new Counter({
    name: 'converge_aggregate_cache_stale_total',
    help: 'decisions made on kept aggregate states that were behind their streams (or refused the command), decided again on the store state',
    registers,
  });
  return {
    optimisticRetry: (streamType) => retries.inc({ stream_type: streamType }),
    keptState: (result) => (result === 'stale' ? stale.inc() : reads.inc({ result })),
  };
}

/** The HTTP status a command was answered with, as the outcome operators count. */
export function outcomeOf(status: number): CommandOutcome {
  if (status < 400) return 'ok';
  if (status === 409) return 'conflict';
  if (status === 412) return 'precondition_failed';
  if (status === 404 || status === 422) return 'rejected';
  // A caller the route admits but the command refuses (a customer ordering for another): not a malformed request.
  if (status === 401 || status === 403) return 'forbidden';
  if (status < 500) return 'validation_error';
  return 'error';
}

/**
 * Counts every command route's answer by outcome. An interceptor runs before the pipes, so
 * bodies refused by validation are counted too; the status is read once the answer is sent.
 */
@Injectable()
export class CommandOutcomes implements NestInterceptor {
  constructor(private readonly metrics: CommandCollector) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const operation = Reflect.getMetadata('swagger/apiOperation', ctx.getHandler()) as { operationId?: string } | undefined;
    const req = ctx.switchToHttp().getRequest<{ method: string }>();
    if (operation?.operationId && req.method !== 'GET') {
      const res = ctx.switchToHttp().getResponse<Response>();
      const type = operation.operationId;
      res.once('finish', () => this.metrics.command(type, outcomeOf(res.statusCode)));
    }
    return next.handle();
  }
}
