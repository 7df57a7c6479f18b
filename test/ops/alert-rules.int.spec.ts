import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RULES = join(__dirname, '../../ops/prometheus');

/** The shipped alert rules, checked and unit-tested by Prometheus's own promtool (Debian package `prometheus`). */
describe('Prometheus alert rules (promtool)', () => {
  it('the rules file is valid', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', join(RULES, 'converge.rules.yml')]);
    expect(stdout).toContain('SUCCESS: 7 rules found');
  });

  it('every alert fires, and stays quiet, where converge.rules.test.yml says', async () => {
    const result = await run('promtool', ['test', 'rules', 'converge.rules.test.yml'], { cwd: RULES }).catch(
      (error: { stdout?: string; stderr?: string }) => ({ stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`, failed: true }),
    );
    expect(result.stdout).toContain('SUCCESS');
    expect('failed' in result).toBe(false);
  });

  it('the scrape configuration for docker-compose is valid', async () => {
    const { stdout } = await run('promtool', ['check', 'config', join(RULES, 'prometheus.yml')]);
    expect(stdout).toContain('SUCCESS');
  });
});
