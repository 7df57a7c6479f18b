import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthenticationError, Authenticator, IdentityUnavailableError } from '../identity/authenticator';
import { Identity, OPERATORS, Role, ROLES, STAFF } from '../identity/roles';
import { guardRoles, ROUTE_ACCESS, RouteKey } from '../identity/route-access';
import { problemType, ProblemException } from './problem';

/** Route metadata: who may call it. A route that says nothing is admin-only (deny by default). */
export const ACCESS = 'converge:access';
export type Access = { public: true } | { roles: readonly Role[] };

/** The OpenAPI extension the document builder turns into the operation's `security` (and 401/403 answers). */
export const ACCESS_EXTENSION = 'x-converge-access';

/** Anyone, without a token (health, product and availability reads). */
export const Public = () => applyDecorators(SetMetadata(ACCESS, { public: true }), ApiExtension(ACCESS_EXTENSION, { public: true }));

/** A bearer token with one of these roles; anything else is 403 (no token or a bad one: 401). */
export const Roles = (...roles: Role[]) => applyDecorators(SetMetadata(ACCESS, { roles }), ApiExtension(ACCESS_EXTENSION, { roles }));

/** Any valid token: the handler decides by ownership (a customer sees its own orders). */
export const AnyRole = () => Roles(...ROLES);

/** Staff only: every role but customer. */
export const StaffOnly = () => Roles(...STAFF);

/** Operator data (/metrics, the status page's feed): admin, support, service. */
export const OperatorsOnly = () => Roles(...OPERATORS);

declare module 'express-serve-static-core' {
  interface Request {
    identity?: Identity;
  }
}

/** The verified caller of a route that requires a token. */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Identity => {
  const identity = ctx.switchToHttp().getRequest<Request>().identity;
  // The guard runs first on every route: a handler that takes @Caller on a public route is a wiring bug.
  if (!identity) throw new Error('@Caller() on a route without a token requirement');
  return identity;
});

/** Decides every route by its ACCESS metadata; the verified identity goes on `req.identity`. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [ctx.getHandler(), ctx.getClass()]) ?? { roles: ['admin'] };
    if ('public' in access) return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    let identity: Identity;
    try {
      identity = await this.authenticator.identify(req.headers.authorization);
    } catch (error) {
      if (error instanceof IdentityUnavailableError) {
        throw new ProblemException({
          type: problemType('unavailable'),
          title: 'Service unavailable',
          status: 503,
          detail: `${error.message}; retry later`,
        });
      }
      if (!(error instanceof AuthenticationError)) throw error;
      res.setHeader(
        'WWW-Authenticate',
        `Bearer realm="converge", error="${error.code}", error_description="${error.message.replace(/"/g, "'")}"`,
      );
      throw new ProblemException({ type: problemType('unauthenticated'), title: 'Unauthenticated', status: 401, detail: error.message });
    }
    if (!access.roles.includes(identity.role)) {
      throw new ProblemException({
        type: problemType('forbidden'),
        title: 'Forbidden',
        status: 403,
        detail: `role ${identity.role} may not ${req.method} ${req.path}; allowed: ${access.roles.join(', ')}`,
      });
    }
    req.identity = identity;
    return true;
  }
}

/** The route's row of ROUTE_ACCESS decides: public, or the roles (full and ownership) that pass the guard. */
export const Allowed = (route: RouteKey) => {
  const roles = guardRoles(ROUTE_ACCESS[route]);
  return roles === 'public' ? Public() : Roles(...roles);
};
