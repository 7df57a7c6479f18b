import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project's root, found the same way from src/ (ts) and dist/src/ (js). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'migrations'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project root above ${__dirname}`);
    dir = parent;
  }
  return dir;
}
