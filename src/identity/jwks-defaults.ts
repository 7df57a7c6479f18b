/**
 * How long an identity provider's keys are trusted, by default: written once for the
 * configuration and for an Authenticator built without it. A module of its own, without jose,
 * so that loading the configuration does not load the token library.
 */

/** How long the provider's keys are used before they are fetched again. */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** How long past that the last keys still verify tokens while the provider cannot be reached. */
export const JWKS_STALE_IF_ERROR_MS = 60 * 60_000;
