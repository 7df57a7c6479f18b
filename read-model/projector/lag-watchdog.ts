import type { Logger } from '../../src/logger';
import type { ProjectionLag } from './projection-lag';

export interface LagWatchdogOptions {
  projections: string[];
  measure: (projection: string) => Promise<ProjectionLag | undefined>;
  /** Alert when lag in seconds exceeds this ... */
  thresholdSeconds: number;
  /** ... continuously for this long. */
  forMs: number;
  /** A backlog with no acknowledged progress for this long is "stuck" rather than "catching up". */
  stuckAfterMs: number;
  /** Receives one JSON POST per alert and one per recovery. */
  webhookUrl?: string;
  logger: Logger;
  intervalMs?: number;
  /**
   * Whether this replica is the one that announces (logs and POSTs) alerts: every projector
   * replica watches every projection, and only the holder of the watchdog's lease speaks, so one
   * lagging projection is one alert however many replicas run. Asked once per round; when it
   * cannot say (the read store is away) this replica announces: a duplicate over a silence.
   * Default: always.
   */
  announces?: () => Promise<boolean>;
}

/** The JSON body of a webhook call. */
export interface LagAlert {
  status: 'firing' | 'resolved';
  projection: string;
  lagSeconds: number;
  lagEvents: number;
  thresholdSeconds: number;
  /** When the lag first exceeded the threshold. */
  since: string;
  at: string;
}

export type ProjectionState = 'ok' | 'catching up' | 'stuck' | 'unknown';

interface Watch {
  lag?: ProjectionLag;
  aboveSince?: number;
  alerted: boolean;
  acknowledged?: number;
  progressAt: number;
}

/**
 * Alerts without Prometheus: samples every projection's lag and, when it stays above the
 * threshold for the set time, logs one warning and POSTs one alert; once it is back under,
 * one recovery. A lag that dips under the threshold restarts the clock, so a flapping view
 * is not announced on every sample.
 */
export class LagWatchdog {
  private readonly watches = new Map<string, Watch>();
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;
  private stopped = false;
  private announcing = true;

  constructor(private readonly options: LagWatchdogOptions) {
    for (const name of options.projections) this.watches.set(name, { alerted: false, progressAt: Date.now() });
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.sampling = this.sample().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs ?? 1000);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /**
   * Stops sampling. A sample in flight is not waited for: while NATS is away each of its
   * measurements waits for a request's time-out, and what it brings after stop() is dropped.
   */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    return Promise.resolve();
  }

  /** Per projection: ok, catching up (backlog, progressing) or stuck (backlog, no progress for stuckAfterMs). */
  states(now = Date.now()): Record<string, ProjectionState> {
    return Object.fromEntries([...this.watches].map(([name, watch]) => [name, this.stateOf(watch, now)]));
  }

  /**
   * A readiness check: a stuck projection among `runs` (the ones this replica runs; default all)
   * makes the process not ready; one this replica does not run is reported stuck but leaves this
   * replica ready, so only the replica that can act on it (by a restart) is the unhealthy one.
   * Catching up is ready, and says so.
   */
  async readiness(runs?: readonly string[]): Promise<{ status: 'up'; projections: Record<string, string> }> {
    await this.sampling;
    const states = this.states();
    const stuck = Object.entries(states).filter(([name, state]) => state === 'stuck' && (!runs || runs.includes(name)));
    if (stuck.length) {
      const seconds = Math.round(this.options.stuckAfterMs / 1000);
      throw new Error(
        `stuck: ${stuck.map(([name]) => `${name} (${this.watches.get(name)!.lag!.events} events behind, nothing applied for ${seconds} s or more)`).join(', ')}`,
      );
    }
    return {
      status: 'up',
      projections: Object.fromEntries(
        Object.entries(states).map(([name, state]) => {
          const lag = this.watches.get(name)!.lag;
          if (state === 'stuck') return [name, 'stuck (not run by this replica)'];
          return [name, state === 'catching up' && lag ? `catching up (${lag.events} events, ${lag.seconds.toFixed(1)} s behind)` : state];
        }),
      ),
    };
  }

  /** One look at every projection (exposed so tests and the first readiness answer need not wait a tick). */
  async sample(): Promise<void> {
    this.announcing = await (this.options.announces?.() ?? Promise.resolve(true)).catch((error: unknown) => {
      this.options.logger.debug({ err: error }, 'watchdog lease not checked; announcing');
      return true;
    });
    // Measured together (while NATS is away each waits for its request's time-out), observed in order.
    const names = [...this.watches.keys()];
    const measured = await Promise.all(
      names.map((name) =>
        this.options.measure(name).then(
          (lag) => ({ lag }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
    if (this.stopped) return;
    names.forEach((name, i) => {
      const result = measured[i];
      if ('error' in result) this.options.logger.debug({ err: result.error, projection: name }, 'lag not measured');
      else this.observe(name, this.watches.get(name)!, result.lag, Date.now());
    });
  }

  private observe(name: string, watch: Watch, lag: ProjectionLag | undefined, now: number): void {
    if (lag && (watch.acknowledged === undefined || lag.acknowledged !== watch.acknowledged || lag.events === 0)) watch.progressAt = now;
    watch.acknowledged = lag?.acknowledged;
    watch.lag = lag;
    const { thresholdSeconds, forMs, logger } = this.options;
    const above = !!lag && lag.seconds > thresholdSeconds;
    if (above) {
      watch.aboveSince ??= now;
      if (!watch.alerted && now - watch.aboveSince >= forMs) {
        // A replica that does not announce keeps the same state, so that on taking over it neither repeats nor misses the recovery.
        watch.alerted = true;
        if (!this.announcing) return;
        const alert = this.alert('firing', name, lag, watch.aboveSince, now);
        logger.warn(
          alert,
          `projection ${name} lags ${lag.seconds.toFixed(1)} s (over ${thresholdSeconds} s for ${Math.round(forMs / 1000)} s)`,
        );
        void this.post(alert);
      }
      return;
    }
    if (watch.alerted && lag && this.announcing) {
      const alert = this.alert('resolved', name, lag, watch.aboveSince!, now);
      logger.info(alert, `projection ${name} caught up (lag ${lag.seconds.toFixed(1)} s)`);
      void this.post(alert);
    }
    watch.alerted = false;
    watch.aboveSince = undefined;
  }

  private stateOf(watch: Watch, now: number): ProjectionState {
    if (!watch.lag) return 'unknown';
    if (watch.lag.events === 0) return 'ok';
    return now - watch.progressAt >= this.options.stuckAfterMs ? 'stuck' : 'catching up';
  }

  private alert(status: LagAlert['status'], projection: string, lag: ProjectionLag, since: number, now: number): LagAlert {
    return {
      status,
      projection,
      lagSeconds: Math.round(lag.seconds * 1000) / 1000,
      lagEvents: lag.events,
      thresholdSeconds: this.options.thresholdSeconds,
      since: new Date(since).toISOString(),
      at: new Date(now).toISOString(),
    };
  }

  private async post(alert: LagAlert): Promise<void> {
    const url = this.options.webhookUrl;
    if (!url) return;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(5_000),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      // Once only, by design: the log line above stands for the alert if the receiver is away.
      this.options.logger.warn({ err: error, projection: alert.projection, status: alert.status }, 'alert webhook failed');
    }
  }
}
