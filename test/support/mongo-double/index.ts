/**
 * A MongoDB wire-protocol double for tests: an in-memory standalone server the official driver can
 * talk to when no real mongod is available. Test support only; product code never imports it.
 */
import { CommandRouter, SUPPORTED_COMMANDS } from './commands';
import { CursorRegistry } from './cursors';
import { listen } from './server';
import { Store } from './storage';
import { SUPPORTED_UPDATE_OPERATORS } from './updates';

export { SUPPORTED_COMMANDS } from './commands';
export { SUPPORTED_UPDATE_OPERATORS } from './updates';

export interface MongoDouble {
  /** e.g. `mongodb://127.0.0.1:PORT/?directConnection=true` */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface MongoDoubleOptions {
  /** 0 or omitted: a random free port. */
  port?: number;
  /** Commands answered as unknown (code 59 CommandNotFound), for removal experiments. */
  disabledCommands?: string[];
  /** Update operators answered as unknown modifiers (code 9 FailedToParse), e.g. `['$setOnInsert']`. */
  disabledUpdateOperators?: string[];
}

function assertKnown(kind: string, requested: string[], known: readonly string[]): void {
  const unknown = requested.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`mongo double: cannot disable unknown ${kind}: ${unknown.join(', ')}`);
}

/** MONGO_DOUBLE_DISABLE=renameCollection,$inc runs any test file with those removed (removal experiments). */
function fromEnvironment(kind: 'commands' | 'operators'): string[] {
  const names = (process.env.MONGO_DOUBLE_DISABLE ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  return names.filter((n) => (kind === 'operators') === n.startsWith('$'));
}

export async function startMongoDouble(options: MongoDoubleOptions = {}): Promise<MongoDouble> {
  const disabledCommands = options.disabledCommands ?? fromEnvironment('commands');
  const disabledOperators = options.disabledUpdateOperators ?? fromEnvironment('operators');
  assertKnown('command', disabledCommands, SUPPORTED_COMMANDS);
  assertKnown('update operator', disabledOperators, SUPPORTED_UPDATE_OPERATORS);
  const state = {
    store: new Store(),
    cursors: new CursorRegistry(),
    rules: { disabledOperators: new Set(disabledOperators) },
  };
  const server = await listen(new CommandRouter(state, disabledCommands), options.port ?? 0);
  return {
    url: `mongodb://127.0.0.1:${server.port}/?directConnection=true`,
    port: server.port,
    stop: () => server.close(),
  };
}
