/** Commands the driver sends while connecting and monitoring: a standalone server, no replica set. */
import type { Document } from 'bson';
import type { CommandHandler } from './context';

export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
const VERSION = '7.0.0';

/**
 * No `setName`, `topologyVersion` or transaction support: the driver sees a Standalone, polls it
 * instead of streaming hello, and never starts transactions or retryable writes.
 */
function helloReply(legacy: boolean, connectionId: number): Document {
  return {
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    helloOk: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
}

const hello: CommandHandler = (_command, { connectionId }) => helloReply(false, connectionId);
const isMaster: CommandHandler = (_command, { connectionId }) => helloReply(true, connectionId);

const buildInfo: CommandHandler = () => ({
  version: VERSION,
  versionArray: [7, 0, 0, 0],
  gitVersion: 'mongo-double',
  bits: 64,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['memory'],
  ok: 1,
});

const getParameter: CommandHandler = (command) => {
  const reply: Document = { ok: 1 };
  if (command.featureCompatibilityVersion !== undefined || command.getParameter === '*') {
    reply.featureCompatibilityVersion = { version: '7.0' };
  }
  return reply;
};

export const handshakeCommands: Record<string, CommandHandler> = {
  hello,
  isMaster,
  ismaster: isMaster,
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  getLog: () => ({ log: [], totalLinesWritten: 0, ok: 1 }),
  endSessions: () => ({ ok: 1 }),
};
