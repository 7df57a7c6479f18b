import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { http } from './system';

export interface Scraped {
  /** Metric families by name, as the parser read them (name, type, help). */
  families: Map<string, ReturnType<typeof parsePrometheusTextFormat>[number]>;
  /** Every sample line (histograms as their `_bucket`, `_sum` and `_count` series). */
  samples: { name: string; labels: Record<string, string>; value: number }[];
  has(name: string): boolean;
}

const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Fetches a /metrics page and parses it as the Prometheus text format; a line the format does not allow fails. */
export async function scrape(url: string): Promise<Scraped> {
  const answer = await http('GET', `${url}/metrics`);
  if (answer.status !== 200) throw new Error(`${url}/metrics answered ${answer.status}`);
  if (!answer.contentType.startsWith('text/plain') || !answer.contentType.includes('version=0.0.4')) {
    throw new Error(`${url}/metrics content type ${answer.contentType}`);
  }
  const text = String(answer.body);
  const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  const samples: Scraped['samples'] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map(([, k, v]) => [k, v]));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return { families, samples, has: (name) => families.has(name) };
}

/**
 * Sum of the samples of a counter or gauge (or a histogram's observation count) whose labels
 * include `labels`; throws when the page lacks the family.
 */
export function total(page: Scraped, name: string, labels: Record<string, string> = {}): number {
  const family = page.families.get(name);
  if (!family) throw new Error(`no series ${name}`);
  const series = family.type === 'HISTOGRAM' || family.type === 'SUMMARY' ? `${name}_count` : name;
  return page.samples
    .filter((s) => s.name === series && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
