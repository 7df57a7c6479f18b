/** Routes a command document to its handler; unknown and disabled commands answer like MongoDB. */
import type { Document } from 'bson';
import { asCommandError, CommandError } from '../errors';
import { adminCommands } from './admin';
import type { CommandHandler, ServerState } from './context';
import { findAndModifyCommands } from './find-and-modify';
import { handshakeCommands } from './handshake';
import { readCommands } from './read';
import { writeCommands } from './write';

export type { ServerState } from './context';

const HANDLERS: Record<string, CommandHandler> = {
  ...handshakeCommands,
  ...readCommands,
  ...writeCommands,
  ...findAndModifyCommands,
  ...adminCommands,
};

/** Every command name the double answers. */
export const SUPPORTED_COMMANDS: readonly string[] = Object.keys(HANDLERS);

export class CommandRouter {
  /** Disabling a command also disables its aliases (isMaster/ismaster, findAndModify/findandmodify…). */
  private readonly disabled: ReadonlySet<CommandHandler>;

  constructor(
    private readonly state: ServerState,
    disabledCommands: Iterable<string>,
  ) {
    this.disabled = new Set([...disabledCommands].map((name) => HANDLERS[name]));
  }

  /** Never throws: failures become `{ ok: 0, ... }` replies. */
  run(command: Document, connectionId: number): Document {
    const name = Object.keys(command)[0] ?? '';
    const handler = Object.prototype.hasOwnProperty.call(HANDLERS, name) ? HANDLERS[name] : undefined;
    if (!handler || this.disabled.has(handler)) {
      return new CommandError('CommandNotFound', `no such command: '${name}'`).toReply();
    }
    if (command.startTransaction === true || command.autocommit === false) {
      return new CommandError('IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos').toReply();
    }
    const db = typeof command.$db === 'string' ? command.$db : 'test';
    try {
      return handler(command, { ...this.state, db, connectionId });
    } catch (error) {
      return asCommandError(error).toReply();
    }
  }
}
