import { Command } from 'commander';
import { applyBatch, documentsTouched } from '../../read-model/projector/apply-batch';
import type { Projection } from '../../read-model/projector/projection';
import type { DeadLetter, StoredDocument, ViewStore } from '../../read-model/view-store/view-store';
import { orderKey, ORIGIN_ORDER_KEY, RecordedEvent } from '../contracts';
import { CliError, EXIT, printJson, projectionNamed, withContext } from './cli-support';

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
        const outcome = await retry(store, projection, letter);
        if (outcome.failed) {
          throw new CliError(`event ${eventId} still fails in ${projection.name}: ${outcome.failed}; the dead letter is kept`);
        }
        await store.deleteDeadLetter(projection.name, eventId);
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

/**
 * Applies the stored event once to the documents it touches, guarded like the projector's
 * writes; which documents changed is read back, since the live projector may write meanwhile.
 */
async function retry(store: ViewStore, projection: Projection, letter: DeadLetter) {
  const event = letter.event as unknown as RecordedEvent;
  let touched: Map<string, Set<string>>;
  try {
    touched = documentsTouched(projection, [event]);
  } catch (error) {
    // Not even the documents it touches can be told: the event is as broken as when it was dead-lettered.
    return { failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error), applied: [], superseded: [] };
  }
  for (const view of projection.views) await store.ensureCollection(view);
  const loaded = new Map<string, Map<string, StoredDocument>>();
  for (const [collection, ids] of touched) loaded.set(collection, await store.getMany(collection, [...ids]));
  const outcome = applyBatch(projection, [event], loaded, { maxAttempts: 1 });
  if (outcome.deadLetters.length) return { failed: outcome.deadLetters[0].error, applied: [], superseded: [] };
  const key = orderKey(event.txId, event.position);
  // Documents already at or past the event: the guard skips them, so the retry cannot add it there.
  const superseded = [...loaded].flatMap(([collection, docs]) =>
    [...docs.values()].filter((d) => d.applied >= key).map((d) => `${collection}/${d.id}`),
  );
  if (outcome.changes.length) {
    // The checkpoint is passed as it stands: a commit never moves it back, and a retry is not progress.
    const current = await store.checkpoint(projection.name);
    await store.commit({
      projection: projection.name,
      changes: outcome.changes,
      checkpoint: current
        ? { orderKey: current.orderKey, position: current.position, eventRecordedAt: current.eventRecordedAt, pending: current.pending }
        : { orderKey: ORIGIN_ORDER_KEY, position: 0, eventRecordedAt: null, pending: 0 },
    });
  }
  const applied: string[] = [];
  for (const change of outcome.changes) {
    const stored = await store.get(change.collection, change.id);
    const name = `${change.collection}/${change.id}`;
    if (stored?.applied === change.applied || (change.doc === null && !stored)) applied.push(name);
    else superseded.push(name); // the live projector moved it past the event meanwhile
  }
  return { failed: undefined, applied, superseded };
}
