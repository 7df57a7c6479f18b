import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PACKAGE = resolve(__dirname, '..');
const ROOT = resolve(PACKAGE, '..', '..');
const GENERATED = ['openapi', join('src', 'generated')];

const filesUnder = (root: string) =>
  GENERATED.flatMap((folder) => readdirSync(join(root, folder)).map((name) => join(folder, name))).sort();

/** The committed documents and types are what the app generates today: run `npm run client:generate` when this fails. */
describe('client:generate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'converge-client-generate-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the committed OpenAPI documents and generated types are up to date', async () => {
    // The same script as `npm run client:generate`, in a process of its own (openapi-typescript is ESM inside).
    await run(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'generate.ts'), '--out', dir], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const fresh = filesUnder(dir);
    expect(fresh).toHaveLength(4);
    expect(filesUnder(PACKAGE)).toEqual(fresh);
    const differing = fresh.filter((file) => readFileSync(join(dir, file), 'utf8') !== readFileSync(join(PACKAGE, file), 'utf8'));
    expect(differing).toEqual([]);
  }, 120_000);
});
