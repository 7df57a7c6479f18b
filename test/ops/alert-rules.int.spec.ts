import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RULES = join(__dirname, '../../ops/prometheus');
/** Where docker-compose's prometheus-token service leaves the scrape token for the APIs' /metrics. */
const COMPOSE_TOKEN = '/etc/prometheus-token/token';

/** The shipped alert rules, checked and unit-tested by Prometheus's own promtool (Debian package `prometheus`). */
describe('Prometheus alert rules (promtool)', () => {
  it('the rules file is valid', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', join(RULES, 'converge.rules.yml')]);
    expect(stdout).toContain('SUCCESS: 10 rules found');
  });

  it('every alert fires, and stays quiet, where converge.rules.test.yml says', async () => {
    const result = await run('promtool', ['test', 'rules', 'converge.rules.test.yml'], { cwd: RULES }).catch(
      (error: { stdout?: string; stderr?: string }) => ({ stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`, failed: true }),
    );
    expect(result.stdout).toContain('SUCCESS');
    expect('failed' in result).toBe(false);
  });

  it('the scrape configuration for docker-compose is valid', async () => {
    // A copy whose token file (minted by compose's prometheus-token service) exists here too.
    const dir = mkdtempSync(join(tmpdir(), 'converge-prometheus-'));
    try {
      for (const file of readdirSync(RULES)) copyFileSync(join(RULES, file), join(dir, file));
      writeFileSync(join(dir, 'token'), 'placeholder\n');
      const config = readFileSync(join(RULES, 'prometheus.yml'), 'utf8');
      expect(config).toContain(COMPOSE_TOKEN);
      writeFileSync(join(dir, 'prometheus.yml'), config.replaceAll(COMPOSE_TOKEN, join(dir, 'token')));
      const { stdout } = await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      expect(stdout).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
