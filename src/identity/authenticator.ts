import { errors, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import { developmentKey } from './dev-key';
import { keySetFailure, remoteKeySet } from './key-set';
import { Identity, isRole, Role } from './roles';
import { JWKS_CACHE_MAX_AGE_MS, JWKS_STALE_IF_ERROR_MS } from './jwks-defaults';

/** The identity settings of src/config.ts. */
export interface IdentitySettings {
  /** Production: the provider's JWKS; issuer and audience are then required. */
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Development: the shared secret (HS256); empty means the key file. */
  devKey: string;
  /** The claim that holds the role (a string, or an array of which the first known role counts). */
  roleClaim: string;
  /** How long the provider's keys are used before they are fetched again (default 10 minutes). */
  jwksCacheMaxAgeMs?: number;
  /** How long past that the last keys still verify tokens while the provider cannot be reached (default 1 hour; 0: not at all). */
  jwksStaleIfErrorMs?: number;
}

export const DEV_ISSUER = 'converge-dev';
export const DEV_AUDIENCE = 'converge';
const CLOCK_TOLERANCE_SECONDS = 5;

/** Why a request is not authenticated: the 401's detail and the WWW-Authenticate error. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  constructor(
    message: string,
    readonly code: 'invalid_request' | 'invalid_token',
  ) {
    super(message);
  }
}

/**
 * The identity provider's key set could not be fetched (unreachable, timed out, not 200, not a
 * key set): no token can be judged, so the request is refused as unavailable (503), not as
 * unauthenticated. A client told 401 would drop a token that may be perfectly good.
 */
export class IdentityUnavailableError extends Error {
  override name = 'IdentityUnavailableError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the identity provider's key set cannot be fetched (${reason})`, options);
  }
}

/** Verifies bearer tokens: against the JWKS in production, the development secret otherwise. */
export class Authenticator {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  readonly mode: 'jwks' | 'development';
  private readonly issuer: string;
  private readonly audience: string;

  constructor(private readonly settings: IdentitySettings) {
    if (settings.jwksUrl) {
      this.mode = 'jwks';
      this.key = remoteKeySet(new URL(settings.jwksUrl), {
        cacheMaxAgeMs: settings.jwksCacheMaxAgeMs ?? JWKS_CACHE_MAX_AGE_MS,
        staleIfErrorMs: settings.jwksStaleIfErrorMs ?? JWKS_STALE_IF_ERROR_MS,
      });
      this.issuer = settings.issuer;
      this.audience = settings.audience;
    } else {
      this.mode = 'development';
      this.key = new TextEncoder().encode(developmentKey(settings.devKey));
      this.issuer = settings.issuer || DEV_ISSUER;
      this.audience = settings.audience || DEV_AUDIENCE;
    }
  }

  /**
   * The identity an `Authorization` header proves; AuthenticationError when it proves none,
   * IdentityUnavailableError when the provider's keys cannot be had to tell.
   */
  async identify(authorization: string | undefined): Promise<Identity> {
    if (!authorization) throw new AuthenticationError('a bearer token is required', 'invalid_request');
    const match = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i.exec(authorization.trim());
    if (!match) throw new AuthenticationError('the Authorization header must be "Bearer <JWT>"', 'invalid_request');
    let payload: Record<string, unknown>;
    try {
      const options = {
        issuer: this.issuer,
        audience: this.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp'],
      };
      payload =
        this.key instanceof Uint8Array
          ? (await jwtVerify(match[1], this.key, { ...options, algorithms: ['HS256'] })).payload
          : (await jwtVerify(match[1], this.key, options)).payload;
    } catch (error) {
      const unavailable = this.mode === 'jwks' ? keySetFailure(error) : undefined;
      if (unavailable) throw new IdentityUnavailableError(unavailable, { cause: error });
      throw new AuthenticationError(reason(error), 'invalid_token');
    }
    const subject = payload.sub;
    if (typeof subject !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(subject)) {
      throw new AuthenticationError("the token's subject must be 1-128 printable ASCII characters", 'invalid_token');
    }
    const claim = payload[this.settings.roleClaim];
    const role = (Array.isArray(claim) ? claim : [claim]).find(isRole);
    if (!role) throw new AuthenticationError(`the token carries no known role in "${this.settings.roleClaim}"`, 'invalid_token');
    return { subject, role };
  }
}

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  return 'the token is malformed or cannot be verified';
}

/** A development token signed with the development key (`converge token`, `npm start`, tests). */
export async function mintDevToken(
  settings: Pick<IdentitySettings, 'devKey' | 'issuer' | 'audience' | 'roleClaim'>,
  claims: { role: Role; subject: string; ttlSeconds: number },
): Promise<string> {
  const key = new TextEncoder().encode(developmentKey(settings.devKey));
  return new SignJWT({ [settings.roleClaim]: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuer(settings.issuer || DEV_ISSUER)
    .setAudience(settings.audience || DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + claims.ttlSeconds)
    .sign(key);
}

/** The subject a role gets when none is given: `dev-<role>` (customers: the demo customer). */
export function defaultSubject(role: Role): string {
  return role === 'customer' ? DEMO_CUSTOMER : `dev-${role}`;
}
export const DEMO_CUSTOMER = 'cust-42';
