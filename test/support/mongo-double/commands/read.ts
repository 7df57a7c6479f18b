/** Read commands: find, getMore, killCursors, aggregate, count, distinct. */
import type { Document } from 'bson';
import { sortDocuments, toNumber, valuesAtPath } from '../bson-order';
import { CommandError } from '../errors';
import { canonicalKey } from '../indexes';
import { aggregate as runPipeline, project } from '../query-engine';
import { copyDocument } from '../storage';
import { existing, matching, targetName, type CommandHandler } from './context';

function nonNegative(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  const n = toNumber(value);
  if (!Number.isFinite(n) || n < 0) throw new CommandError('BadValue', `${field} value must be non-negative, but received: ${n}`);
  return n;
}

const find: CommandHandler = (command, context) => {
  const name = targetName(command, 'find');
  const skip = nonNegative(command.skip, 'skip');
  const rawLimit = command.limit === undefined ? 0 : toNumber(command.limit);
  const limit = Math.abs(rawLimit);
  const sorted = sortDocuments(matching(context, name, command.filter), command.sort as Document | undefined);
  const window = sorted.slice(skip, limit > 0 ? skip + limit : undefined);
  const docs = project(window, command.projection as Document | undefined);
  const singleBatch = command.singleBatch === true || rawLimit < 0;
  return context.cursors.first(`${context.db}.${name}`, docs, command.batchSize, singleBatch);
};

const getMore: CommandHandler = (command, context) =>
  context.cursors.more(command.getMore, command.collection, command.batchSize);

const killCursors: CommandHandler = (command, context) => {
  if (!Array.isArray(command.cursors)) throw new CommandError('TypeMismatch', "BSON field 'cursors' is missing or is not an array");
  return context.cursors.kill(command.cursors);
};

const aggregate: CommandHandler = (command, context) => {
  if (typeof command.aggregate !== 'string') {
    throw new CommandError('InvalidNamespace', 'collection-less aggregate is not supported by the mongo double');
  }
  const name = targetName(command, 'aggregate');
  if (command.cursor === undefined && command.explain !== true) {
    throw new CommandError('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  const source = existing(context, name)?.all() ?? [];
  const resolve = (other: string) => (existing(context, other)?.all() ?? []).map(copyDocument);
  const docs = runPipeline(source, command.pipeline as Document[], resolve);
  const batchSize = (command.cursor as Document | undefined)?.batchSize;
  return context.cursors.first(`${context.db}.${name}`, docs, batchSize);
};

const count: CommandHandler = (command, context) => {
  const name = targetName(command, 'count');
  const skip = nonNegative(command.skip, 'skip');
  const limit = Math.abs(command.limit === undefined ? 0 : toNumber(command.limit));
  const total = Math.max(0, matching(context, name, command.query).length - skip);
  return { n: limit > 0 ? Math.min(limit, total) : total, ok: 1 };
};

const distinct: CommandHandler = (command, context) => {
  const name = targetName(command, 'distinct');
  if (typeof command.key !== 'string') throw new CommandError('TypeMismatch', "BSON field 'distinct.key' is missing or is not a string");
  const seen = new Map<string, unknown>();
  for (const doc of matching(context, name, command.query)) {
    for (const value of valuesAtPath(doc, command.key.split('.'))) {
      for (const item of Array.isArray(value) ? value : [value]) {
        const key = canonicalKey(item);
        if (!seen.has(key)) seen.set(key, item);
      }
    }
  }
  return { values: [...seen.values()], ok: 1 };
};

export const readCommands: Record<string, CommandHandler> = { find, getMore, killCursors, aggregate, count, distinct };
