import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOpenApiDocuments } from '../../test/support/openapi-documents';
import { projectRoot } from '../paths';

const run = promisify(execFile);
const REDOCLY = join(projectRoot(), 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[];
}

/** Both generated documents pass Redocly's lint with its strict recommended rules (warnings count as errors). */
describe('OpenAPI documents', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'converge-openapi-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['command', 'query'] as const)('the %s API document lints clean', async (api) => {
    const documents = await buildOpenApiDocuments();
    const file = join(dir, `${api}.openapi.json`);
    writeFileSync(file, JSON.stringify(documents[api], null, 2));
    const { stdout } = await run(process.execPath, [REDOCLY, 'lint', file, '--extends=recommended-strict', '--format=json'], {
      cwd: dir,
      // Offline and quiet: no usage telemetry, no update check.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(stdout) as LintReport;
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`);
    expect(problems).toEqual([]);
    expect(report.totals.errors).toBe(0);
  }, 60_000);
});
