/** Namespace and index commands: create, drop, dropDatabase, renameCollection, list*, createIndexes, dropIndexes. */
import type { Document } from 'bson';
import { CommandError } from '../errors';
import { defaultIndexName, ID_INDEX, type IndexSpec } from '../indexes';
import { compileFilter } from '../query-engine';
import { validateCollectionName } from '../storage';
import { existing, targetName, type CommandContext, type CommandHandler } from './context';

function mustExist(context: CommandContext, name: string) {
  const collection = existing(context, name);
  if (!collection) throw new CommandError('NamespaceNotFound', `ns does not exist: ${context.db}.${name}`);
  return collection;
}

/** Fields every command may carry that are not collection options. */
const ENVELOPE_FIELDS = new Set(['create', '$db', 'lsid', 'writeConcern', '$readPreference', '$clusterTime', 'comment']);

const create: CommandHandler = (command, context) => {
  const name = validateCollectionName(command.create);
  if (existing(context, name)) throw new CommandError('NamespaceExists', `Collection ${context.db}.${name} already exists.`);
  const options = Object.fromEntries(Object.entries(command).filter(([field]) => !ENVELOPE_FIELDS.has(field)));
  context.store.ensureCollection(context.db, name, options);
  return { ok: 1 };
};

const drop: CommandHandler = (command, context) => {
  const name = targetName(command, 'drop');
  const collection = existing(context, name);
  if (!collection) throw new CommandError('NamespaceNotFound', 'ns not found');
  context.store.dropCollection(context.db, name);
  return { nIndexesWas: collection.indexes.size, ns: collection.ns, ok: 1 };
};

const dropDatabase: CommandHandler = (_command, context) => {
  context.store.dropDatabase(context.db);
  return { dropped: context.db, ok: 1 };
};

function splitNamespace(value: unknown, field: string): [string, string] {
  const ns = typeof value === 'string' ? value : '';
  const dot = ns.indexOf('.');
  if (dot <= 0 || dot === ns.length - 1) throw new CommandError('InvalidNamespace', `Invalid ${field} namespace: ${ns}`);
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

/** Runs synchronously, so dropping the target and moving the source is atomic for every reader. */
const renameCollection: CommandHandler = (command, context) => {
  if (context.db !== 'admin') throw new CommandError('Unauthorized', 'renameCollection may only be run against the admin database.');
  const [fromDb, fromName] = splitNamespace(command.renameCollection, 'source');
  const [toDb, toName] = splitNamespace(command.to, 'target');
  validateCollectionName(toName);
  const source = context.store.collection(fromDb, fromName);
  if (!source) throw new CommandError('NamespaceNotFound', 'Source collection does not exist');
  if (fromDb === toDb && fromName === toName) throw new CommandError('IllegalOperation', "Can't rename a collection to itself");
  if (context.store.collection(toDb, toName)) {
    if (command.dropTarget !== true) throw new CommandError('NamespaceExists', 'target namespace exists');
    context.store.dropCollection(toDb, toName);
  }
  context.store.rename(source, toDb, toName);
  return { ok: 1 };
};

const listCollections: CommandHandler = (command, context) => {
  const matches = compileFilter(command.filter as Document | undefined);
  const infos = context.store
    .collections(context.db)
    .map((c) =>
      command.nameOnly === true
        ? { name: c.name, type: 'collection' }
        : { name: c.name, type: 'collection', options: { ...c.options }, info: { readOnly: false, uuid: c.uuid }, idIndex: { ...ID_INDEX } },
    )
    .filter(matches);
  const batchSize = (command.cursor as Document | undefined)?.batchSize;
  return context.cursors.first(`${context.db}.$cmd.listCollections`, infos, batchSize);
};

const listDatabases: CommandHandler = (command, context) => {
  const databases = context.store.databaseNames().map((name) => ({ name, sizeOnDisk: 0, empty: false }));
  const matches = compileFilter(command.filter as Document | undefined);
  const listed = databases.filter(matches);
  return command.nameOnly === true ? { databases: listed.map(({ name }) => ({ name })), ok: 1 } : { databases: listed, totalSize: 0, ok: 1 };
};

const createIndexes: CommandHandler = (command, context) => {
  const name = targetName(command, 'createIndexes');
  if (!Array.isArray(command.indexes) || command.indexes.length === 0) {
    throw new CommandError('BadValue', 'Must specify at least one index to create');
  }
  const createdCollectionAutomatically = !existing(context, name);
  const collection = context.store.ensureCollection(context.db, name);
  const before = collection.indexes.size;
  for (const requested of command.indexes as Document[]) {
    const key = requested.key as Document | undefined;
    if (!key || typeof key !== 'object' || Object.keys(key).length === 0) throw new CommandError('BadValue', "Index spec must have a non-empty 'key'");
    const spec: IndexSpec = { ...requested, v: 2, key, name: typeof requested.name === 'string' ? requested.name : defaultIndexName(key) };
    collection.indexes.create(collection.ns, spec, collection.entries());
  }
  const after = collection.indexes.size;
  return {
    numIndexesBefore: before,
    numIndexesAfter: after,
    createdCollectionAutomatically,
    ...(before === after ? { note: 'all indexes already exist' } : {}),
    ok: 1,
  };
};

const listIndexes: CommandHandler = (command, context) => {
  const name = targetName(command, 'listIndexes');
  const collection = mustExist(context, name);
  const batchSize = (command.cursor as Document | undefined)?.batchSize;
  return context.cursors.first(`${context.db}.$cmd.listIndexes.${name}`, collection.indexes.list(), batchSize);
};

const dropIndexes: CommandHandler = (command, context) => {
  const name = targetName(command, 'dropIndexes');
  const collection = mustExist(context, name);
  const before = collection.indexes.size;
  const target = command.index;
  if (target === '*') {
    collection.indexes.dropAllButId();
    return { nIndexesWas: before, ok: 1 };
  }
  const names = Array.isArray(target)
    ? (target as string[])
    : [typeof target === 'string' ? target : collection.indexes.list().find((s) => JSON.stringify(s.key) === JSON.stringify(target))?.name ?? ''];
  for (const indexName of names) {
    if (indexName === ID_INDEX.name) throw new CommandError('InvalidOptions', 'cannot drop _id index');
    if (!collection.indexes.find(indexName)) throw new CommandError('IndexNotFound', `index not found with name [${indexName}]`);
  }
  for (const indexName of names) collection.indexes.drop(indexName);
  return { nIndexesWas: before, ok: 1 };
};

export const adminCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  renameCollection,
  listCollections,
  listDatabases,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};
