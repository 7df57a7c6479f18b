import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Counter, Registry } from 'prom-client';
import type { AnsweredRequest } from '../../src/http/request-log';

export type CommandOutcome =
  'ok' | 'conflict' | 'rejected' | 'precondition_failed' | 'unauthenticated' | 'forbidden' | 'validation_error' | 'error';

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
  if (status === 401) return 'unauthenticated';
  // The access guard's refusal, or a command refusing a caller the route admits (a customer ordering for another).
  if (status === 403) return 'forbidden';
  if (status < 500) return 'validation_error';
  return 'error';
}

/**
 * Counts every command route's answer by outcome, from the request log's view of each answered
 * request (observeRequests): the access guard's 401 and 403 and the validation pipe's 400 are
 * answers of the route, so they are counted; what is refused before any route is matched (a
 * body that is not JSON, the rate limit's 429) is not.
 */
export function commandOutcomes(controllers: Type[], metrics: CommandCollector): (answered: AnsweredRequest) => void {
  const operations = commandOperations(controllers);
  return ({ method, route, status }) => {
    const type = operations.get(`${method} ${route}`);
    if (type) metrics.command(type, outcomeOf(status));
  };
}

/** Each command route's operation id, by `METHOD /route/:pattern` as express reports the route it matched. */
export function commandOperations(controllers: Type[]): Map<string, string> {
  const operations = new Map<string, string>();
  for (const controller of controllers) {
    const base = Reflect.getMetadata(PATH_METADATA, controller) as string | undefined;
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const operation = Reflect.getMetadata('swagger/apiOperation', handler) as { operationId?: string } | undefined;
      if (method === undefined || method === RequestMethod.GET || !operation?.operationId) continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const route = `/${[base, path].filter(Boolean).join('/')}`.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
      operations.set(`${RequestMethod[method]} ${route}`, operation.operationId);
    }
  }
  return operations;
}
