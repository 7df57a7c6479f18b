/** MongoDB wire framing: splits a TCP byte stream into messages and encodes replies. */
import { deserialize, serialize, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

const HEADER_SIZE = 16;
const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;
/** Larger than any legal message (maxMessageSizeBytes is 48 MB); a bigger length means a corrupt stream. */
const MAX_FRAME = 64 * 1024 * 1024;

export interface RawMessage {
  requestId: number;
  opCode: number;
  body: Buffer;
}

/** A command read off the wire, whatever opcode carried it. */
export interface IncomingCommand {
  requestId: number;
  opCode: typeof OP_MSG | typeof OP_QUERY;
  command: Document;
  /** OP_MSG moreToCome: the client expects no reply. */
  noReply: boolean;
}

/** Accumulates chunks and yields whole messages; handles split and coalesced frames. */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawMessage[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: RawMessage[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0);
      if (length < HEADER_SIZE || length > MAX_FRAME) throw new Error(`invalid message length ${length}`);
      if (this.pending.length < length) break;
      const frame = this.pending.subarray(0, length);
      messages.push({
        requestId: frame.readInt32LE(4),
        opCode: frame.readInt32LE(12),
        body: Buffer.from(frame.subarray(HEADER_SIZE)),
      });
      this.pending = this.pending.subarray(length);
    }
    return messages;
  }
}

export function decodeMessage(message: RawMessage): IncomingCommand {
  if (message.opCode === OP_MSG) return decodeOpMsg(message);
  if (message.opCode === OP_QUERY) return decodeOpQuery(message);
  throw new Error(`unsupported opcode ${message.opCode}`);
}

function decodeOpMsg({ requestId, body }: RawMessage): IncomingCommand {
  const flags = body.readUInt32LE(0);
  // The CRC-32C trailer is optional; the loopback transport needs no verification.
  const end = flags & CHECKSUM_PRESENT ? body.length - 4 : body.length;
  let offset = 4;
  let command: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = body.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      const size = body.readInt32LE(offset);
      command = deserialize(body.subarray(offset, offset + size));
      offset += size;
    } else if (kind === 1) {
      const size = body.readInt32LE(offset);
      const sectionEnd = offset + size;
      const nameEnd = body.indexOf(0, offset + 4);
      const identifier = body.toString('utf8', offset + 4, nameEnd);
      const docs: Document[] = [];
      for (let at = nameEnd + 1; at < sectionEnd; ) {
        const docSize = body.readInt32LE(at);
        docs.push(deserialize(body.subarray(at, at + docSize)));
        at += docSize;
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new Error(`unsupported OP_MSG section kind ${kind}`);
    }
  }
  if (!command) throw new Error('OP_MSG without a body section');
  for (const [identifier, docs] of sequences) command[identifier] = docs;
  return { requestId, opCode: OP_MSG, command, noReply: (flags & MORE_TO_COME) !== 0 };
}

function decodeOpQuery({ requestId, body }: RawMessage): IncomingCommand {
  const nameEnd = body.indexOf(0, 4);
  const namespace = body.toString('utf8', 4, nameEnd);
  const queryAt = nameEnd + 1 + 8; // skip numberToSkip and numberToReturn
  const size = body.readInt32LE(queryAt);
  let command = deserialize(body.subarray(queryAt, queryAt + size));
  if (command.$query && typeof command.$query === 'object') command = command.$query as Document;
  if (command.$db === undefined) command.$db = namespace.split('.')[0];
  return { requestId, opCode: OP_QUERY, command, noReply: false };
}

let nextRequestId = 1;

function header(length: number, responseTo: number, opCode: number): Buffer {
  const head = Buffer.alloc(HEADER_SIZE);
  head.writeInt32LE(length, 0);
  head.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(opCode, 12);
  return head;
}

export function encodeOpMsg(responseTo: number, reply: Document): Buffer {
  const doc = serialize(reply);
  const prefix = Buffer.alloc(5); // flagBits (0) + section kind 0
  return Buffer.concat([header(HEADER_SIZE + prefix.length + doc.length, responseTo, OP_MSG), prefix, doc]);
}

export function encodeOpReply(responseTo: number, reply: Document): Buffer {
  const doc = serialize(reply);
  const fields = Buffer.alloc(20); // responseFlags, cursorID (int64), startingFrom, numberReturned
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(HEADER_SIZE + fields.length + doc.length, responseTo, OP_REPLY), fields, doc]);
}

export function encodeReply(request: IncomingCommand, reply: Document): Buffer {
  return request.opCode === OP_MSG ? encodeOpMsg(request.requestId, reply) : encodeOpReply(request.requestId, reply);
}
