import { OPERATORS, Role, ROLES, STAFF } from './roles';

/**
 * Who may call which route: the one table the routes' `@Allowed(...)` reads, the README's
 * route × role table is rendered from (`renderAccessTable`), and the route × role × ownership
 * test checks against. `own`: the role may, on its own resources only (a customer's orders);
 * other customers' orders answer 404, as if they did not exist.
 */
export interface RouteAccess {
  api: 'command' | 'query' | 'both';
  /** `public`: no token needed. */
  roles: readonly Role[] | 'public';
  own?: readonly Role[];
}

const CATALOG: Role[] = ['admin', 'catalog'];
const STOCK: Role[] = ['admin', 'inventory'];
const ORDER_READERS: Role[] = ['admin', 'support', 'service'];

export const ROUTE_ACCESS = {
  'POST /products': { api: 'command', roles: CATALOG },
  'PATCH /products/{sku}': { api: 'command', roles: CATALOG },
  'PUT /products/{sku}/price': { api: 'command', roles: CATALOG },
  'POST /products/{sku}/discontinue': { api: 'command', roles: CATALOG },
  'POST /inventory/{sku}/receipts': { api: 'command', roles: STOCK },
  'POST /inventory/{sku}/adjustments': { api: 'command', roles: STOCK },
  'POST /orders': { api: 'command', roles: ['admin'], own: ['customer'] },
  'POST /orders/{id}/cancel': { api: 'command', roles: ['admin', 'support'], own: ['customer'] },
  'POST /orders/{id}/ship': { api: 'command', roles: ['admin', 'support'] },
  'GET /products': { api: 'query', roles: 'public' },
  'GET /products/{sku}': { api: 'query', roles: 'public' },
  'GET /inventory/{sku}': { api: 'query', roles: 'public' },
  'GET /inventory': { api: 'query', roles: STAFF },
  'GET /orders/{id}': { api: 'query', roles: ORDER_READERS, own: ['customer'] },
  'GET /customers/{id}/orders': { api: 'query', roles: ORDER_READERS, own: ['customer'] },
  'GET /reports/daily-sales': { api: 'query', roles: STAFF },
  'GET /projections': { api: 'query', roles: STAFF },
  'GET /metrics': { api: 'both', roles: OPERATORS },
  // The status page carries no data; what it polls is operator data.
  'GET /status': { api: 'query', roles: 'public' },
  'GET /status/data': { api: 'query', roles: OPERATORS },
} as const satisfies Record<string, RouteAccess>;

export type RouteKey = keyof typeof ROUTE_ACCESS;

/** The roles that pass the guard on a route: the full ones and the ownership ones (checked by the handler). */
export function guardRoles(access: RouteAccess): readonly Role[] | 'public' {
  return access.roles === 'public' ? 'public' : [...access.roles, ...(access.own ?? [])];
}

/** What a role may do on a route, as the README's table says it. */
export function cell(access: RouteAccess, role: Role): 'public' | 'yes' | 'own' | 'no' {
  if (access.roles === 'public') return 'public';
  if (access.roles.includes(role)) return 'yes';
  return access.own?.includes(role) ? 'own' : 'no';
}

const SYMBOLS = { public: 'public', yes: '✓', own: 'own', no: '—' } as const;

/** The README's route × role table (Markdown), rendered from ROUTE_ACCESS. */
export function renderAccessTable(): string {
  const api = { command: 'command', query: 'query', both: 'both' } as const;
  const lines = [`| route | API | ${ROLES.join(' | ')} |`, `| --- | --- | ${ROLES.map(() => ':-:').join(' | ')} |`];
  for (const [route, access] of Object.entries(ROUTE_ACCESS) as [string, RouteAccess][]) {
    lines.push(`| \`${route}\` | ${api[access.api]} | ${ROLES.map((role) => SYMBOLS[cell(access, role)]).join(' | ')} |`);
  }
  return lines.join('\n');
}
