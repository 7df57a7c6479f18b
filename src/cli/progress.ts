import { Presets, SingleBar } from 'cli-progress';
import { count } from './cli-support';

/** Progress of a long run: a bar on a terminal, plain lines (at most one a second) in logs and pipes. */
export interface Progress {
  /** A line that opens the run (printed in both modes: logs and tests read it). */
  start(label: string, note: string, total: number): void;
  update(done: number, total: number): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream);
}

class BarProgress implements Progress {
  private bar?: SingleBar;
  private started = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(label: string, note: string, total: number): void {
    this.stream.write(`${label}: ${note}\n`);
    this.started = performance.now();
    this.bar = new SingleBar(
      {
        stream: this.stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`,
        etaBuffer: 20,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    this.bar.start(Math.max(total, 1), 0, { rate: '0' });
  }

  update(done: number, total: number): void {
    const seconds = (performance.now() - this.started) / 1000;
    this.bar?.setTotal(Math.max(total, 1));
    this.bar?.update(done, { rate: count(seconds > 0 ? done / seconds : 0) });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class LineProgress implements Progress {
  private label = '';
  private started = 0;
  private printed = 0;
  private last?: { done: number; total: number };

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(label: string, note: string, _total: number): void {
    this.label = label;
    this.started = performance.now();
    this.printed = this.started;
    this.stream.write(`${label}: ${note}\n`);
  }

  update(done: number, total: number): void {
    this.last = { done, total };
    if (performance.now() - this.printed >= 1000) this.print();
  }

  stop(): void {
    if (this.last && this.printed < performance.now()) this.print();
    this.last = undefined;
  }

  private print(): void {
    if (!this.last) return;
    const { done, total } = this.last;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? Math.ceil((total - done) / rate) : '?';
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    this.stream.write(`${this.label}: ${count(done)}/${count(total)} events (${percent}%), ${count(rate)} events/s, ETA ${eta}s\n`);
    this.printed = performance.now();
  }
}
