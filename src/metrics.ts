import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process's prom-client registry, with Node.js's default metrics (CPU, heap, GC, event-loop
 * lag, open handles) under their standard names (`process_*`, `nodejs_*`) so stock dashboards
 * read them; everything Converge adds is named `converge_*`.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
