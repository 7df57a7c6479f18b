/** The roles a token may carry; scripts, docs and the route table use these names. */
export const ROLES = ['admin', 'catalog', 'inventory', 'support', 'customer', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Everyone but customers: daily sales, /projections and other operator reads. */
export const STAFF: readonly Role[] = ['admin', 'catalog', 'inventory', 'support', 'service'];

/** Who may read /metrics and the status page's data. */
export const OPERATORS: readonly Role[] = ['admin', 'support', 'service'];

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/** The verified caller: the token's subject and role. */
export interface Identity {
  subject: string;
  role: Role;
}
