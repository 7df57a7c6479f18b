/** Write commands: insert, update, delete — per-statement write errors, ordered or unordered. */
import { serialize, type Document } from 'bson';
import { asCommandError, CommandError } from '../errors';
import { copyDocument, withIdFirst, type StoredCollection } from '../storage';
import { applyUpdate, buildUpsert, isOperatorUpdate, validateUpdate } from '../updates';
import { documentList, existing, isOrdered, matching, targetName, type CommandContext, type CommandHandler } from './context';

/** Runs each statement; a failing one becomes a `writeErrors` entry and, if ordered, stops the batch. */
function eachStatement<T>(statements: T[], ordered: boolean, run: (statement: T, index: number) => void): Document[] {
  const writeErrors: Document[] = [];
  for (let index = 0; index < statements.length; index += 1) {
    try {
      run(statements[index], index);
    } catch (error) {
      writeErrors.push(asCommandError(error).toWriteError(index));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function withErrors(reply: Document, writeErrors: Document[]): Document {
  return writeErrors.length > 0 ? { ...reply, writeErrors } : reply;
}

const insert: CommandHandler = (command, context) => {
  const name = targetName(command, 'insert');
  const documents = documentList(command, 'documents');
  const collection = context.store.ensureCollection(context.db, name);
  let n = 0;
  const writeErrors = eachStatement(documents, isOrdered(command), (doc) => {
    collection.insert(withIdFirst(copyDocument(doc)));
    n += 1;
  });
  return withErrors({ n, ok: 1 }, writeErrors);
};

interface UpdateStatement {
  q: Document;
  u: unknown;
  upsert?: boolean;
  multi?: boolean;
  arrayFilters?: Document[];
}

/** The outcome of one update statement, shared by `update` and `findAndModify`. */
export interface UpdateOutcome {
  matched: number;
  modified: number;
  upserted?: Document;
  /** Matched documents before and after the update, in match order. */
  before: Document[];
  after: Document[];
}

export function updateMatching(
  context: CommandContext,
  name: string,
  statement: UpdateStatement,
  order: (docs: Document[]) => Document[] = (docs) => docs,
): UpdateOutcome {
  validateUpdate(statement.u, context.rules);
  const spec = statement.u;
  if (statement.multi && !Array.isArray(spec) && !isOperatorUpdate(spec)) {
    throw new CommandError('FailedToParse', 'multi update is not supported for replacement-style update');
  }
  const found = order(matching(context, name, statement.q));
  const targets = statement.multi ? found : found.slice(0, 1);
  const outcome: UpdateOutcome = { matched: 0, modified: 0, before: [], after: [] };
  if (targets.length === 0) {
    if (!statement.upsert) return outcome;
    const doc = buildUpsert(statement.q ?? {}, spec, statement.arrayFilters);
    context.store.ensureCollection(context.db, name).insert(doc);
    return { ...outcome, upserted: doc, after: [doc] };
  }
  const collection = existing(context, name) as StoredCollection;
  for (const current of targets) {
    const next = applyUpdate(copyDocument(current), spec, statement.arrayFilters);
    outcome.matched += 1;
    outcome.before.push(current);
    outcome.after.push(next);
    if (Buffer.compare(serialize(current), serialize(next)) !== 0) {
      collection.replace(current, next);
      outcome.modified += 1;
    }
  }
  return outcome;
}

const update: CommandHandler = (command, context) => {
  const name = targetName(command, 'update');
  const statements = documentList(command, 'updates') as UpdateStatement[];
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors = eachStatement(statements, isOrdered(command), (statement, index) => {
    const outcome = updateMatching(context, name, statement);
    n += outcome.matched + (outcome.upserted ? 1 : 0);
    nModified += outcome.modified;
    if (outcome.upserted) upserted.push({ index, _id: outcome.upserted._id });
  });
  return withErrors({ n, nModified, ...(upserted.length > 0 ? { upserted } : {}), ok: 1 }, writeErrors);
};

interface DeleteStatement {
  q: Document;
  limit: number;
}

const remove: CommandHandler = (command, context) => {
  const name = targetName(command, 'delete');
  const statements = documentList(command, 'deletes') as DeleteStatement[];
  let n = 0;
  const writeErrors = eachStatement(statements, isOrdered(command), (statement) => {
    const limit = Number(statement.limit ?? 0);
    if (limit !== 0 && limit !== 1) throw new CommandError('FailedToParse', 'The limit field in delete objects must be 0 or 1');
    const targets = matching(context, name, statement.q);
    for (const doc of limit === 1 ? targets.slice(0, 1) : targets) {
      existing(context, name)?.remove(doc);
      n += 1;
    }
  });
  return withErrors({ n, ok: 1 }, writeErrors);
};

export const writeCommands: Record<string, CommandHandler> = { insert, update, delete: remove };
