import { Command } from 'commander';
import { retryDeadLetter } from '../../read-model/projector/dead-letter-retry';
import type { Projection } from '../../read-model/projector/projection';
import type { DeadLetter, ViewStore } from '../../read-model/view-store/view-store';
import { CliError, EXIT, printJson, projectionNamed, withContext } from './cli-support';
import type { Config } from '../config';
import type { RecordedEvent } from '../contracts';
import { orderKey } from '../contracts';
import { announceToQueryApis } from './view-notices';

export function deadLettersCommand(): Command {
  const command = new Command('dead-letters').description('list, show, retry or discard events a projection gave up on');

  command
    .command('list')
    .description('list dead letters, oldest first')
    .option('--projection <name>', 'only this projection\'s')
    .option('--json', 'print them as JSON (with the stored events)')
    .action(async (flags: { projection?: string; json?: boolean }) => {
      await withContext({ writeStore: false }, async ({ config, store }) => {
        if (flags.projection) projectionNamed(config, flags.projection);
        const letters = await store.deadLetters(flags.projection);
        if (flags.json) return printJson(letters);
        if (!letters.length) return console.log(`no dead letters${flags.projection ? ` for ${flags.projection}` : ''}`);
        for (const d of letters) {
          console.log(`${d.projection}  ${d.eventId}  ${String(d.event.type)} at position ${String(d.event.position)}  ` +
            `failed ${new Date(d.failedAt).toISOString()} after ${d.attempts} attempts: ${d.error}`);
        }
      });
    });

  command
    .command('show')
    .description('show one dead letter with its event and error')
    .argument('<projection>')
    .argument('<eventId>')
    .option('--json', 'print it as JSON')
    .action(async (name: string, eventId: string, flags: { json?: boolean }) => {
      await withContext({ writeStore: false }, async ({ config, store }) => {
        const letter = await find(store, projectionNamed(config, name), eventId);
        if (flags.json) return printJson(letter);
        console.log(`${letter.projection} ${letter.eventId}: failed ${new Date(letter.failedAt).toISOString()} after ${letter.attempts} attempts`);
        console.log(`error: ${letter.error}`);
        console.log(`event: ${JSON.stringify(letter.event, null, 2)}`);
      });
    });

  command
    .command('retry')
    .description(
      're-apply the event to the live view with the projection\'s handler and remove the dead letter on success; ' +
        'documents that already moved past the event are left as they are (the order-key guard)',
    )
    .argument('<projection>')
    .argument('<eventId>')
    .action(async (name: string, eventId: string) => {
      await withContext({ writeStore: false }, async ({ config, store }) => {
        const projection = projectionNamed(config, name);
        const letter = await find(store, projection, eventId);
        const outcome = await retryDeadLetter(store, projection, letter);
        if (outcome.failed) {
          throw new CliError(`event ${eventId} still fails in ${projection.name}: ${outcome.failed}; the dead letter is kept`);
        }
        await store.deleteDeadLetter(projection.name, eventId);
        if (outcome.applied.length) await announceRetry(config, projection, letter, outcome.applied);
        if (outcome.applied.length) console.log(`applied event ${eventId} to ${outcome.applied.join(', ')}; dead letter removed`);
        if (outcome.superseded.length) {
          console.log(
            `no change to ${outcome.superseded.join(', ')}: already past the event (the guard makes a retry a no-op there); ` +
              `dead letter removed. If the view needs the event, run: converge rebuild ${projection.name}`,
          );
        }
        if (!outcome.applied.length && !outcome.superseded.length) console.log(`event ${eventId} changes no document; dead letter removed`);
      });
    });

  command
    .command('discard')
    .description('remove a dead letter without applying its event')
    .argument('<projection>')
    .argument('<eventId>')
    .action(async (name: string, eventId: string) => {
      await withContext({ writeStore: false }, async ({ config, store }) => {
        const projection = projectionNamed(config, name);
        if (!(await store.deleteDeadLetter(projection.name, eventId))) throw notFound(projection, eventId);
        console.log(`discarded the dead letter of event ${eventId} in ${projection.name}`);
      });
    });

  return command;
}

async function find(store: ViewStore, projection: Projection, eventId: string): Promise<DeadLetter> {
  const letter = await store.deadLetter(projection.name, eventId);
  if (!letter) throw notFound(projection, eventId);
  return letter;
}

function notFound(projection: Projection, eventId: string): CliError {
  return new CliError(`no dead letter for event ${eventId} in ${projection.name} (converge dead-letters list shows them)`, EXIT.failure);
}

/** The documents a retry changed, announced like a projector batch's so that read caches drop them. */
async function announceRetry(config: Config, projection: Projection, letter: DeadLetter, applied: string[]): Promise<void> {
  const event = letter.event as unknown as RecordedEvent;
  const key = orderKey(event.txId, event.position);
  const changed = applied.map((name): [string, string, string] => {
    const slash = name.indexOf('/');
    return [name.slice(0, slash), name.slice(slash + 1), key];
  });
  const announced = await announceToQueryApis(config, {
    projection: projection.name,
    orderKey: key,
    position: event.position,
    eventRecordedAt: new Date(event.recordedAt).toISOString(),
    changed,
  });
  if (!announced) console.error('NATS unreachable: query API caches keep the documents until they resynchronise or expire (CACHE_TTL_MS)');
}
