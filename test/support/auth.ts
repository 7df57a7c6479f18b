import { mintDevToken } from '../../src/identity/authenticator';
import { generateDevKey } from '../../src/identity/dev-key';
import type { Role } from '../../src/identity/roles';

/**
 * The development signing key of this test run (one per jest worker): startTestSystem puts it in
 * the system's config and `env` (AUTH_DEV_KEY), so in-process APIs and spawned children verify
 * the tokens testToken mints.
 */
export const TEST_DEV_KEY = generateDevKey();

/** Pass as the `authorization` header to http() to call without any token. */
export const ANONYMOUS = '';

/** A bearer token for `role` (subject `test-<role>` unless given), as the Authorization header wants it. */
export async function testToken(role: Role, subject = `test-${role}`, ttlSeconds = 3600, key = TEST_DEV_KEY): Promise<string> {
  const token = await mintDevToken({ devKey: key, issuer: '', audience: '', roleClaim: 'role' }, { role, subject, ttlSeconds });
  return `Bearer ${token}`;
}

let admin: Promise<string> | undefined;

/** The admin token http() sends when the caller names no Authorization header (minted once per run). */
export function adminToken(): Promise<string> {
  admin ??= testToken('admin', 'test-admin');
  return admin;
}

/** The JWT of a testToken() header, for clients that add "Bearer " themselves. */
export const bare = (authorization: string) => authorization.replace(/^Bearer /, '');
