import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort, spawnListening } from './nats-server';

const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';
const SHIPPED_RULES = join(__dirname, '../../ops/prometheus/converge.rules.yml');

export interface ScrapeTarget {
  job: string;
  /** Base URL of the process; Prometheus scrapes `<url>/metrics`. */
  url: string;
  /**
   * A bearer token for the scrape (the APIs' /metrics once identity guards them): the one
   * place a scrape's Authorization header is set.
   */
  bearer?: string;
}

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * One of the shipped alert rules with a shorter threshold and window (tests cannot wait
 * minutes): the expression is the shipped one, only its final `> N` and `for:` change.
 */
export async function shippedRule(alert: string, threshold: number, forDuration: string): Promise<Rule> {
  const file = parse(await readFile(SHIPPED_RULES, 'utf8')) as { groups: { rules: Rule[] }[] };
  const rule = file.groups.flatMap((group) => group.rules).find((r) => r.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in ${SHIPPED_RULES}`);
  const expr = rule.expr.replace(/>\s*[\d.]+\s*$/, `> ${threshold}`);
  if (expr === rule.expr) throw new Error(`${alert}: no trailing "> N" threshold to shorten in ${rule.expr}`);
  return { ...rule, expr, for: forDuration };
}

export interface PrivatePrometheus {
  url: string;
  /** GET /api/v1/<path>; throws unless Prometheus says success. */
  api<T>(path: string): Promise<T>;
  dispose(): Promise<void>;
}

/** A private Prometheus (the Debian package's binary) on a free port and a temporary data directory. */
export async function startPrometheus(options: { targets: ScrapeTarget[]; rules: Rule[]; interval?: string }): Promise<PrivatePrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'converge-prometheus-'));
  const interval = options.interval ?? '1s';
  // JSON is YAML: both files are written as JSON.
  await writeFile(join(dir, 'rules.yml'), JSON.stringify({ groups: [{ name: 'converge-test', interval, rules: options.rules }] }));
  await writeFile(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: [join(dir, 'rules.yml')],
      scrape_configs: options.targets.map((target) => {
        const url = new URL(target.url);
        return {
          job_name: target.job,
          scheme: url.protocol.replace(':', ''),
          static_configs: [{ targets: [url.host] }],
          ...(target.bearer && { authorization: { type: 'Bearer', credentials: target.bearer } }),
        };
      }),
    }),
  );
  const port = await freePort();
  const child: ChildProcess = await spawnListening(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    port,
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async api<T>(path: string): Promise<T> {
      const response = await fetch(`${url}/api/v1/${path}`);
      const body = (await response.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
      return body.data;
    },
    async dispose() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
