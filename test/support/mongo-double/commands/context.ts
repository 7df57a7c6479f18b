/** What every command handler receives, and the small helpers most of them share. */
import type { Document } from 'bson';
import type { CursorRegistry } from '../cursors';
import { CommandError } from '../errors';
import { compileFilter } from '../query-engine';
import type { Store, StoredCollection } from '../storage';
import type { UpdateRules } from '../updates';

export interface ServerState {
  store: Store;
  cursors: CursorRegistry;
  rules: UpdateRules;
}

export interface CommandContext extends ServerState {
  /** `$db` of the command. */
  db: string;
  connectionId: number;
}

export type CommandHandler = (command: Document, context: CommandContext) => Document;

/** The collection a command names in its first field, e.g. `{ find: 'orders' }`. */
export function targetName(command: Document, field: string): string {
  const name = command[field];
  if (typeof name !== 'string' || name.length === 0) {
    throw new CommandError('InvalidNamespace', `collection name has invalid type ${typeof name}`);
  }
  return name;
}

export function existing(context: CommandContext, name: string): StoredCollection | undefined {
  return context.store.collection(context.db, name);
}

/** Matching documents in natural order (stored references: never mutate them). */
export function matching(context: CommandContext, name: string, filter: unknown): Document[] {
  const collection = existing(context, name);
  if (collection) return collection.matching(filter as Document | undefined);
  compileFilter(filter as Document | undefined); // a malformed filter fails even on a missing collection
  return [];
}

/** Documents sent as an array field, or as an OP_MSG kind-1 sequence merged under the same name. */
export function documentList(command: Document, field: string): Document[] {
  const value = command[field];
  if (!Array.isArray(value)) throw new CommandError('TypeMismatch', `BSON field '${field}' is missing or is not an array`);
  return value as Document[];
}

/** `ordered` defaults to true, as in MongoDB. */
export function isOrdered(command: Document): boolean {
  return command.ordered !== false;
}
