/** Update documents as MongoDB applies them: operator updates (via mingo), replacements, pipelines, upserts. */
import { Timestamp, type Document } from 'bson';
import { update as mingoUpdate } from 'mingo';
import { canonicalKey } from './indexes';
import { CommandError } from './errors';
import { aggregate, isOperatorObject } from './query-engine';
import { withIdFirst as idFirst } from './storage';

type MingoExpression = Parameters<typeof mingoUpdate>[1];

const MINGO_OPERATORS = new Set([
  '$addToSet', '$bit', '$inc', '$max', '$min', '$mul', '$pop', '$pull', '$pullAll', '$push', '$rename', '$set', '$unset',
]);
/** Implemented here: mingo has no `$setOnInsert`, and its `$currentDate` stores a number, not a date. */
const LOCAL_OPERATORS = new Set(['$setOnInsert', '$currentDate']);
/** Every update operator the double applies. */
export const SUPPORTED_UPDATE_OPERATORS: readonly string[] = [...MINGO_OPERATORS, ...LOCAL_OPERATORS];

const PIPELINE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

export interface UpdateRules {
  /** Update operators answered as unknown, for removal experiments. */
  disabledOperators: ReadonlySet<string>;
}

export type UpdateSpec = Document | Document[];

export function isOperatorUpdate(spec: UpdateSpec): boolean {
  return !Array.isArray(spec) && Object.keys(spec).some((k) => k.startsWith('$'));
}

function unknownModifier(op: string): CommandError {
  return new CommandError('FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
}

/** Rejects what MongoDB rejects before touching any document. */
export function validateUpdate(spec: unknown, rules: UpdateRules): asserts spec is UpdateSpec {
  if (spec === null || typeof spec !== 'object') throw new CommandError('FailedToParse', 'Update argument must be either an object or an array');
  if (Array.isArray(spec)) {
    for (const stage of spec as Document[]) {
      const name = Object.keys(stage)[0];
      if (!PIPELINE_STAGES.has(name)) throw new CommandError('InvalidOptions', `${name} is not allowed to be used within an update`);
    }
    return;
  }
  const update = spec as Document;
  if (!isOperatorUpdate(update)) return;
  const paths: string[] = [];
  for (const [op, args] of Object.entries(update)) {
    if (!MINGO_OPERATORS.has(op) && !LOCAL_OPERATORS.has(op)) throw unknownModifier(op);
    if (rules.disabledOperators.has(op)) throw unknownModifier(op);
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      throw new CommandError('FailedToParse', `Modifiers operate on fields but we found type ${Array.isArray(args) ? 'array' : typeof args} instead.`);
    }
    for (const [field, value] of Object.entries(args as Document)) {
      paths.push(field);
      if (op === '$rename' && typeof value === 'string') paths.push(value);
    }
  }
  assertNoConflicts(paths);
}

function assertNoConflicts(paths: string[]): void {
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i += 1) {
    const [a, b] = [sorted[i - 1], sorted[i]];
    if (a === b || b.startsWith(`${a}.`)) {
      throw new CommandError('ConflictingUpdateOperators', `Updating the path '${b}' would create a conflict at '${a}'`);
    }
  }
}

function currentDateAsSet(args: Document): Document {
  const now = new Date();
  const set: Document = {};
  for (const [field, kind] of Object.entries(args)) {
    const type = kind !== null && typeof kind === 'object' ? (kind as Document).$type : 'date';
    set[field] = type === 'timestamp' ? Timestamp.fromNumber(Math.floor(now.getTime() / 1000) * 2 ** 32) : now;
  }
  return set;
}

function applyOperators(doc: Document, spec: Document, isInsert: boolean, arrayFilters: Document[]): void {
  for (const [op, args] of Object.entries(spec)) {
    if (op === '$setOnInsert' && !isInsert) continue;
    const [name, value] =
      op === '$setOnInsert' ? ['$set', args] : op === '$currentDate' ? ['$set', currentDateAsSet(args as Document)] : [op, args];
    try {
      mingoUpdate(doc, { [name]: value } as MingoExpression, arrayFilters);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new CommandError(/type/i.test(message) ? 'TypeMismatch' : 'BadValue', message);
    }
  }
}

function assertSameId(before: Document, after: Document): void {
  if (canonicalKey(before._id) !== canonicalKey(after._id)) {
    throw new CommandError('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
}

/** Applies `spec` to an existing document (already a private copy) and returns the new version. */
export function applyUpdate(current: Document, spec: UpdateSpec, arrayFilters: Document[] = []): Document {
  if (Array.isArray(spec)) {
    const [next] = aggregate([current], spec, () => []);
    assertSameId(current, next);
    return idFirst(next);
  }
  if (!isOperatorUpdate(spec)) {
    const next = { _id: current._id, ...spec };
    if (spec._id !== undefined && canonicalKey(spec._id) !== canonicalKey(current._id)) {
      throw new CommandError('ImmutableField', "After applying the update, the (immutable) field '_id' was found to have been altered");
    }
    return idFirst(next);
  }
  const next = current;
  const idBefore = { _id: current._id };
  applyOperators(next, spec, false, arrayFilters);
  assertSameId(idBefore, next);
  return next;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target = doc;
  for (const part of parts.slice(0, -1)) {
    if (target[part] === null || typeof target[part] !== 'object') target[part] = {};
    target = target[part] as Document;
  }
  target[parts[parts.length - 1]] = value;
}

/** The fields an upsert copies from its filter: plain equalities and `$eq`, also inside `$and`. */
export function upsertSeed(filter: Document, seed: Document = {}): Document {
  for (const [key, value] of Object.entries(filter ?? {})) {
    if (key === '$and' && Array.isArray(value)) {
      for (const clause of value as Document[]) upsertSeed(clause, seed);
    } else if (key.startsWith('$') || value instanceof RegExp) {
      continue;
    } else if (isOperatorObject(value)) {
      if ('$eq' in value) setPath(seed, key, value.$eq);
    } else {
      setPath(seed, key, value);
    }
  }
  return seed;
}

/** The document an upsert inserts when nothing matched `filter`. */
export function buildUpsert(filter: Document, spec: UpdateSpec, arrayFilters: Document[] = []): Document {
  const seed = upsertSeed(filter);
  if (Array.isArray(spec)) return idFirst(aggregate([seed], spec, () => [])[0]);
  if (!isOperatorUpdate(spec)) {
    const { _id, ...rest } = spec;
    return idFirst({ _id: _id ?? seed._id, ...rest });
  }
  applyOperators(seed, spec, true, arrayFilters);
  return idFirst(seed);
}
