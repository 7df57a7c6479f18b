import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../paths';

/** Where `npm start` and `converge token` keep the development signing key (gitignored). */
export const DEV_KEY_FILE = join(projectRoot(), '.converge', 'dev-signing-key');

/** Development secrets are at least 32 random bytes, base64url. */
export const DEV_KEY_PATTERN = /^[A-Za-z0-9_-]{43,}$/;

export function generateDevKey(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The development signing key: AUTH_DEV_KEY when set, otherwise the key file, created on first
 * use so that the APIs, `npm start` and `converge token` on one machine agree without setup.
 */
export function developmentKey(configured: string, file = DEV_KEY_FILE): string {
  if (configured) return configured;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx': two processes starting together keep whichever key was written first.
    writeFileSync(file, `${generateDevKey()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8').trim();
}
