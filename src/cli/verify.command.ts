import { Command, Option } from 'commander';
import { verifyProjection, VerifyResult } from '../../read-model/rebuild/verify';
import { CliError, count, EXIT, positiveInteger, printJson, selectProjections, withContext } from './cli-support';

/** Differences printed in text mode; --json prints them all. */
const SHOWN = 20;

export function verifyCommand(): Command {
  return new Command('verify')
    .description(
      'replay the event log in memory up to the live view\'s checkpoint and compare the result with the live view ' +
        'document by document; exits 1 when any document differs',
    )
    .argument('[projection]', 'the projection to verify')
    .option('--all', 'verify every projection')
    .addOption(new Option('--batch-size <events>', 'events per log read').argParser(positiveInteger).default(5000))
    .option('--json', 'print the result (with every differing document) as JSON')
    .action(async (name: string | undefined, flags: { all?: boolean; batchSize: number; json?: boolean }) => {
      const differing = await withContext({ writeStore: true }, async (context) => {
        const projections = selectProjections(context.config, name, flags.all);
        const results: VerifyResult[] = [];
        for (const projection of projections) {
          const result = await verifyProjection({ projection, store: context.store, log: context.log!, batchSize: flags.batchSize });
          results.push(result);
          if (!flags.json) printResult(result);
        }
        if (flags.json) printJson(flags.all ? results : results[0]);
        return results.filter((r) => r.differences.length).length;
      });
      if (differing) throw new CliError(`${differing} projection(s) differ from a replay of the event log`, EXIT.failure);
    });
}

function printResult(result: VerifyResult): void {
  const at = result.checkpoint ? `position ${result.checkpoint.position}` : 'the start of the log (no checkpoint yet)';
  if (!result.differences.length) {
    console.log(`${result.projection}: ${count(result.documents)} documents equal a replay of the log up to ${at}`);
    return;
  }
  console.log(`${result.projection}: ${result.differences.length} of ${count(result.documents)} documents differ from a replay of the log up to ${at}:`);
  for (const d of result.differences.slice(0, SHOWN)) {
    console.log(`  ${d.collection}/${d.id}`);
    console.log(`    expected: ${JSON.stringify(d.expected)}`);
    console.log(`    actual:   ${JSON.stringify(d.actual)}`);
  }
  if (result.differences.length > SHOWN) console.log(`  ... and ${result.differences.length - SHOWN} more (--json lists them all)`);
  console.log(`  repair: converge rebuild ${result.projection}`);
}
