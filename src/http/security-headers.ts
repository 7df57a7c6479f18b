import type { Request, Response } from 'express';
import helmet from 'helmet';

/** The security headers (helmet's defaults) every answer of both APIs carries. */
export const securityHeaders = helmet();

/**
 * The same headers as a flat [name, value, ...] list, for answers written without express (the
 * query API's cache fast path): helmet's defaults do not depend on the request, so they are taken once.
 */
export const SECURITY_HEADER_LIST: string[] = (() => {
  const list: string[] = [];
  const res = {
    setHeader: (name: string, value: unknown) => list.push(name, String(value)),
    removeHeader: () => undefined,
    getHeader: () => undefined,
  };
  securityHeaders({ headers: {} } as Request, res as unknown as Response, () => undefined);
  return list;
})();
