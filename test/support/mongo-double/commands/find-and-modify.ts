/** findAndModify: one document, chosen by sort, updated/upserted/removed atomically; errors are command errors. */
import type { Document } from 'bson';
import { sortDocuments } from '../bson-order';
import { CommandError } from '../errors';
import { project } from '../query-engine';
import { existing, matching, targetName, type CommandHandler } from './context';
import { updateMatching } from './write';

function shaped(doc: Document | undefined, fields: unknown): Document | null {
  if (!doc) return null;
  return project([doc], fields as Document | undefined)[0] ?? null;
}

const findAndModify: CommandHandler = (command, context) => {
  const name = targetName(command, 'findAndModify' in command ? 'findAndModify' : 'findandmodify');
  const query = (command.query ?? {}) as Document;
  const sort = command.sort as Document | undefined;
  const hasUpdate = command.update !== undefined;
  if (command.remove === true && hasUpdate) throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true');
  if (command.remove !== true && !hasUpdate) throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified');
  if (command.remove === true && command.upsert === true) throw new CommandError('FailedToParse', 'Cannot specify both upsert=true and remove=true');

  if (command.remove === true) {
    const [target] = sortDocuments(matching(context, name, query), sort);
    if (target) existing(context, name)?.remove(target);
    return { lastErrorObject: { n: target ? 1 : 0 }, value: shaped(target, command.fields), ok: 1 };
  }

  const outcome = updateMatching(
    context,
    name,
    { q: query, u: command.update, upsert: command.upsert === true, multi: false, arrayFilters: command.arrayFilters as Document[] | undefined },
    (docs) => sortDocuments(docs, sort),
  );
  const returnNew = command.new === true;
  if (outcome.upserted) {
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: outcome.upserted._id },
      value: returnNew ? shaped(outcome.upserted, command.fields) : null,
      ok: 1,
    };
  }
  const value = returnNew ? outcome.after[0] : outcome.before[0];
  return { lastErrorObject: { n: outcome.matched, updatedExisting: outcome.matched > 0 }, value: shaped(value, command.fields), ok: 1 };
};

export const findAndModifyCommands: Record<string, CommandHandler> = { findAndModify, findandmodify: findAndModify };
