import { createLocalJWKSet, createRemoteJWKSet, errors, JSONWebKeySet, JWKSCacheInput, jwksCache, JWTVerifyGetKey } from 'jose';

export interface KeySetOptions {
  /** How long fetched keys are used before they are fetched again (jose's cacheMaxAge). */
  cacheMaxAgeMs: number;
  /** How long past that the last keys fetched still verify tokens while the provider cannot be reached (0: not at all). */
  staleIfErrorMs: number;
}

/** After a failed fetch, the stale keys answer on their own this long before the provider is asked again. */
const STALE_RETRY_MS = 5_000;

/**
 * The identity provider's key set: fetched and cached by jose's remote key set, and kept in use
 * while the provider fails. Once the keys are older than `cacheMaxAgeMs` jose fetches them again;
 * if that fails (unreachable, timing out, not 200, not a key set) the last keys fetched go on
 * verifying tokens until they are `staleIfErrorMs` past their age, and the provider is asked
 * again at most every few seconds meanwhile, so a provider that times out does not hold every
 * request for its time-out. A token whose key is not among them (a key the provider added during
 * the outage) still gets the fetch's failure: it can be neither accepted nor refused.
 */
export function remoteKeySet(url: URL, options: KeySetOptions): JWTVerifyGetKey {
  // jose records the keys it fetched and when (uat) in this object.
  const cache: JWKSCacheInput = {};
  const remote = createRemoteJWKSet(url, { cacheMaxAge: options.cacheMaxAgeMs, [jwksCache]: cache });
  let stale: { jwks: JSONWebKeySet; getKey: JWTVerifyGetKey } | undefined;
  let failure: { at: number; error: unknown } | undefined;

  const staleKeys = (): JWTVerifyGetKey | undefined => {
    if (!options.staleIfErrorMs || !('uat' in cache)) return undefined;
    if (Date.now() - cache.uat > options.cacheMaxAgeMs + options.staleIfErrorMs) return undefined;
    if (stale?.jwks !== cache.jwks) stale = { jwks: cache.jwks, getKey: createLocalJWKSet(cache.jwks) };
    return stale.getKey;
  };
  const fromStale = async (getKey: JWTVerifyGetKey, error: unknown, ...args: Parameters<JWTVerifyGetKey>) => {
    try {
      return await getKey(...args);
    } catch (noKey) {
      if (noKey instanceof errors.JWKSNoMatchingKey) throw error;
      throw noKey;
    }
  };

  return async (...args) => {
    const recent = failure && Date.now() - failure.at < STALE_RETRY_MS ? failure : undefined;
    const keys = recent && staleKeys();
    if (recent && keys) return fromStale(keys, recent.error, ...args);
    try {
      const key = await remote(...args);
      failure = undefined;
      return key;
    } catch (error) {
      if (keySetFailure(error) === undefined) throw error;
      failure = { at: Date.now(), error };
      const fallback = staleKeys();
      if (!fallback) throw error;
      return fromStale(fallback, error, ...args);
    }
  };
}

/**
 * Why fetching the key set failed, or undefined when the error is about the token. jose throws
 * its generic JOSEError only when the key set's response is not 200 or not JSON, JWKSTimeout and
 * JWKSInvalid for the rest; anything that is not a JOSEError comes from the request itself
 * (ECONNREFUSED, a name that does not resolve).
 */
export function keySetFailure(error: unknown): string | undefined {
  if (error instanceof errors.JWKSTimeout) return 'timed out';
  if (error instanceof errors.JWKSInvalid) return 'the response is not a JSON Web Key Set';
  if (error instanceof errors.JOSEError) return error.code === errors.JOSEError.code ? error.message : undefined;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}
