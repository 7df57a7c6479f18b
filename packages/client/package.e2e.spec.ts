import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { bare, testToken } from '../../test/support/auth';
import { startTestSystem, TestSystem } from '../../test/support/system';

const exec = promisify(execFile);
const PACKAGE = __dirname;
const TSC = resolve(PACKAGE, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');

// A consumer's own code: strict, resolved through the package's `exports` as Node does.
const CONSUMER = `import { ConvergeClient, ConvergeProblemError, type CommandResult, type Product } from '@converge/client';

export async function registerAndRead(commandUrl: string, queryUrl: string, token: string) {
  const client = new ConvergeClient({ commandUrl, queryUrl, wait: 5, token });
  const registered: CommandResult = await client.registerProduct({ sku: 'PKG-MUG', name: 'Packed mug', price: { amount: 1500, currency: 'EUR' } });
  const product: Product = (await client.getProduct('PKG-MUG', { after: registered.token })).data;
  const missing = await client.getOrder('00000000-0000-4000-8000-000000000000').catch((error: unknown) => error);
  return { etag: registered.etag, name: product.name, available: product.available, missing: missing instanceof ConvergeProblemError && missing.kind };
}
`;
const MISUSE = `import { ConvergeClient } from '@converge/client';

export const misuse = (client: ConvergeClient) => client.registerProduct({ sku: 'PKG-BAD', price: { amount: 1, currency: 'EUR' } });
`;
const TSCONFIG = {
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    module: 'node16',
    moduleResolution: 'node16',
    lib: ['ES2022', 'DOM'],
    types: [],
    outDir: 'out',
  },
  files: ['consumer.ts'],
};

/** The client as another project gets it: packed, installed from the tarball, imported with its types, run against the system. */
describe('@converge/client package', () => {
  let dir: string;
  let system: TestSystem;
  // Outside the repository and without npm's variables from `npm test`, so nothing of the workspace leaks in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
  const run = (file: string, args: string[], cwd: string) => exec(file, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'converge-client-package-'));
    system = await startTestSystem({
      pieces: ['command-api', 'relay', 'projector', 'query-api'],
      env: { PROJECTION_BATCH_DELAY_MS: '300' },
    });
  });
  afterAll(async () => {
    await system?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs from its tarball, type-checks strictly and reads its own write', async () => {
    // npm pack runs prepack, which builds dist/ from the current sources.
    await run('npm', ['pack', '--pack-destination', dir, '--silent'], PACKAGE);
    const [tarball] = readdirSync(dir).filter((name) => name.endsWith('.tgz'));
    expect(tarball).toMatch(/^converge-client-\d+\.\d+\.\d+\.tgz$/);

    const project = join(dir, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // No dependencies to fetch: the tarball is the whole install.
    await run('npm', ['install', join(dir, tarball), '--offline', '--no-audit', '--no-fund', '--silent'], project);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(join(project, 'misuse.ts'), MISUSE);
    writeFileSync(join(project, 'tsconfig.misuse.json'), JSON.stringify({ extends: './tsconfig.json', files: ['misuse.ts'] }));

    await run(process.execPath, [TSC, '-p', '.', '--noEmit'], project);
    // Older projects resolve through `main` and `types` instead of `exports`.
    await run(process.execPath, [TSC, '-p', '.', '--noEmit', '--module', 'commonjs', '--moduleResolution', 'node10'], project);
    // The types are real, not `any`: a product without a name does not compile.
    const misuse = await run(process.execPath, [TSC, '-p', 'tsconfig.misuse.json', '--noEmit'], project).catch(
      (error: { stdout: string }) => error,
    );
    expect(misuse.stdout).toMatch(/misuse\.ts\(3,\d+\): error TS2345:[\s\S]*Property 'name' is missing/);

    await run(process.execPath, [TSC, '-p', '.'], project);
    const main = `require('./out/consumer.js').registerAndRead(process.argv[1], process.argv[2], process.argv[3]).then((r) => console.log(JSON.stringify(r)))`;
    const { stdout } = await run(
      process.execPath,
      ['-e', main, system.commandUrl, system.queryUrl, bare(await testToken('admin'))],
      project,
    );
    expect(JSON.parse(stdout)).toEqual({ etag: '"1"', name: 'Packed mug', available: 0, missing: 'not-found' });
  }, 180_000);
});
