/** mingo wired for MongoDB semantics: all operators loaded, `$sort` replaced by BSON ordering. */
import type { Document } from 'bson';
import { Aggregator, Context, ProcessingMode, Query } from 'mingo';
import { sortDocuments } from './bson-order';
import { CommandError } from './errors';

type ContextOps = NonNullable<Parameters<typeof Context.init>[0]>;
type PipelineOps = NonNullable<ContextOps['pipeline']>;
interface LazyDocuments {
  transform(fn: (docs: Document[]) => Document[]): LazyDocuments;
  map(fn: (doc: Document) => Document): LazyDocuments;
}
type PipelineStage = (collection: LazyDocuments, expr: unknown, options: unknown) => LazyDocuments;

// The typed entry point only ships a context without operators; the full one lives in a sub-path
// that `moduleResolution: node` cannot type, so it is loaded untyped.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fullContext = (require('mingo/init/context') as { default: () => Context }).default;

const allOperators = fullContext();

/** MongoDB emits `_id` first from an inclusion projection; mingo appends it last. */
function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

const bsonSort: PipelineStage = (collection, spec) => collection.transform((docs) => sortDocuments(docs, spec as Document));
const mingoProject = allOperators.getOperator('pipeline' as Parameters<Context['getOperator']>[0], '$project') as unknown as PipelineStage;
const idFirstProject: PipelineStage = (collection, expr, opts) => mingoProject(collection, expr, opts).map(idFirst);

const context = Context.merge(
  Context.init({ pipeline: { $sort: bsonSort, $project: idFirstProject } as unknown as PipelineOps }),
  allOperators,
);

/** Pipeline stages that would need to write back into the store. */
const UNSUPPORTED_STAGES = new Set(['$out', '$merge', '$currentOp', '$listSessions', '$changeStream', '$collStats', '$indexStats']);

export type CollectionResolver = (name: string) => Document[];

function options(resolver?: CollectionResolver) {
  return {
    context,
    useGlobalContext: false,
    useStrictMode: true,
    processingMode: ProcessingMode.CLONE_INPUT,
    collectionResolver: resolver,
  };
}

/** `{ $gt: 1 }`-style values, as opposed to literal sub-documents, dates or BSON values. */
export function isOperatorObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date || value instanceof RegExp) return false;
  if ((value as { _bsontype?: string })._bsontype !== undefined) return false;
  const first = Object.keys(value)[0];
  return first !== undefined && first.startsWith('$');
}

export function compileFilter(filter: Document | undefined): (doc: Document) => boolean {
  if (filter === undefined || filter === null) return () => true;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new CommandError('TypeMismatch', 'filter must be an object');
  const query = new Query(filter, options());
  return (doc) => query.test(doc);
}

export function project(docs: Document[], projection: Document | undefined): Document[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  return new Query({}, options()).find<Document>(docs, projection).all().map(idFirst);
}

export function aggregate(docs: Document[], pipeline: Document[], resolver: CollectionResolver): Document[] {
  if (!Array.isArray(pipeline)) throw new CommandError('TypeMismatch', "'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0];
    if (UNSUPPORTED_STAGES.has(name)) {
      throw new CommandError('Location40324', `Unrecognized pipeline stage name: '${name}' (not supported by the mongo double)`);
    }
  }
  return new Aggregator(pipeline, options(resolver)).run<Document>(docs);
}
