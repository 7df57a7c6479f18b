import { Command, Option } from 'commander';
import { LeaseHeldError, ORIGIN_ORDER_KEY } from '../contracts';
import {
  estimateRebuild,
  RebuildEstimate,
  RebuildInterrupted,
  rebuildProjection,
  RebuildResult,
  RebuildSwap,
} from '../../read-model/rebuild/rebuild';
import { CliError, count, EXIT, positiveInteger, printJson, selectProjections, withContext } from './cli-support';
import { createProgress } from './progress';
import type { Config } from '../config';
import { announceToQueryApis } from './view-notices';

interface RebuildFlags {
  all?: boolean;
  batchSize: number;
  maxRate?: number;
  fresh?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function rebuildCommand(): Command {
  return new Command('rebuild')
    .description(
      'replay the event log into shadow collections, catch up, then swap them in atomically while the query API ' +
        'keeps serving the old view; resumes an interrupted rebuild; one rebuild per projection at a time',
    )
    .argument('[projection]', 'the projection to rebuild')
    .option('--all', 'rebuild every projection, one after the other')
    .addOption(new Option('--batch-size <events>', 'events per log read and shadow commit').argParser(positiveInteger).default(5000))
    .addOption(new Option('--max-rate <events/s>', 'replay at most this many events per second (spares a busy system)').argParser(positiveInteger))
    .option('--fresh', 'start from the beginning even if an interrupted rebuild left a shadow to resume')
    .option('--dry-run', 'count the events a rebuild would replay and estimate its time; writes nothing')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .action(async (name: string | undefined, flags: RebuildFlags) => {
      await withContext({ writeStore: true }, async (context) => {
        const projections = selectProjections(context.config, name, flags.all);
        const base = { store: context.store, log: context.log!, leases: context.leases!, batchSize: flags.batchSize };
        if (flags.dryRun) {
          const estimates: RebuildEstimate[] = [];
          for (const projection of projections) estimates.push(await estimateRebuild({ ...base, projection }));
          if (flags.json) printJson(flags.all ? estimates : estimates[0]);
          else estimates.forEach(printEstimate);
          return;
        }
        // Ctrl-C stops after the batch in hand, keeping the shadow to resume; a second one exits at once.
        const controller = new AbortController();
        const interrupt = () => {
          if (controller.signal.aborted) process.exit(EXIT.interrupted);
          process.stderr.write('\nstopping after the current batch (Ctrl-C again to quit now)...\n');
          controller.abort();
        };
        process.on('SIGINT', interrupt).on('SIGTERM', interrupt);
        const results: RebuildResult[] = [];
        try {
          for (const projection of projections) {
            const progress = createProgress();
            try {
              results.push(
                await rebuildProjection({
                  ...base,
                  projection,
                  maxAttempts: context.config.projectionMaxAttempts,
                  maxRate: flags.maxRate,
                  fresh: flags.fresh,
                  signal: controller.signal,
                  onStart: ({ resumedFrom, total }) =>
                    progress.start(
                      projection.name,
                      resumedFrom
                        ? `resuming from the shadow checkpoint at position ${resumedFrom.position}, ${count(total)} events to replay`
                        : `replaying the log from the beginning, ${count(total)} events`,
                      total,
                    ),
                  onProgress: ({ done, total }) => progress.update(done, total),
                  onSwapped: (swap) => announceSwap(context.config, swap),
                }),
              );
            } finally {
              progress.stop();
            }
            const result = results[results.length - 1];
            if (!flags.json) printResult(result);
          }
        } catch (error) {
          if (error instanceof LeaseHeldError) throw new CliError(error.message, EXIT.leaseHeld);
          if (error instanceof RebuildInterrupted) throw new CliError(error.message, EXIT.interrupted);
          throw error;
        } finally {
          process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
        }
        // Milliseconds are precision enough; the raw float carries noise such as 0.33554338000000006.
        const rounded = results.map((result) => ({ ...result, seconds: Math.round(result.seconds * 1000) / 1000 }));
        if (flags.json) printJson(flags.all ? rounded : rounded[0]);
      });
    });
}

function printResult(result: RebuildResult): void {
  const at = result.swappedAt ? `swapped in at position ${result.swappedAt.position}` : 'swapped in (the log is empty)';
  console.log(
    `${result.projection}: rebuilt ${count(result.replayed)} events in ${result.seconds.toFixed(2)} s ` +
      `(${count(result.eventsPerSecond)} events/s); ${at}, relay held for ${result.frozenMs} ms` +
      (result.deadLetters ? `; ${result.deadLetters} events dead-lettered (see converge dead-letters list)` : ''),
  );
}

function printEstimate(estimate: RebuildEstimate): void {
  const from = estimate.resumeFrom ? `resuming after position ${estimate.resumeFrom.position}` : 'from the beginning';
  const time = estimate.estimatedSeconds === null ? 'nothing to replay' : `about ${estimate.estimatedSeconds} s or more (a sample batch read and applied at ${count(estimate.sampledEventsPerSecond ?? 0)} events/s; writes come on top)`;
  console.log(
    `${estimate.projection} (dry run, nothing written): would replay ${count(estimate.events)} events ${from} ` +
      `(the ones it handles, of ${count(estimate.logEvents)} in the log); ${time}`,
  );
  if (estimate.runningRebuild) console.log(`  a rebuild is running now: ${estimate.runningRebuild.holder}`);
}

/** Read caches drop every entry of the swapped collections; without NATS they expire or resynchronise. */
async function announceSwap(config: Config, swap: RebuildSwap): Promise<void> {
  const announced = await announceToQueryApis(config, {
    projection: swap.projection,
    orderKey: swap.at?.orderKey ?? ORIGIN_ORDER_KEY,
    position: swap.at?.position ?? 0,
    eventRecordedAt: (swap.at?.eventRecordedAt ?? new Date()).toISOString(),
    swapped: swap.collections,
  });
  if (!announced) process.stderr.write('NATS unreachable: query API caches drop the old view when they resynchronise (reconnect, restart) or on expiry (CACHE_TTL_MS)\n');
}
