/**
 * MongoDB's comparison order for BSON values (no collation): type brackets first, numbers by value
 * across int/long/double/decimal, strings bytewise as UTF-8. mingo orders by JS semantics instead.
 */
import type { Document } from 'bson';
import { CommandError } from './errors';

type Tagged = { _bsontype?: string };

const EMPTY_ARRAY_RANK = 1.5; // an empty array sorts before null/missing

function bsonType(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' ? (value as Tagged)._bsontype : undefined;
}

export function typeRank(value: unknown): number {
  if (value === null || value === undefined) return 2;
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'boolean':
      return 9;
    default:
      break;
  }
  if (Array.isArray(value)) return 6;
  if (value instanceof Date) return 10;
  if (value instanceof RegExp) return 12;
  switch (bsonType(value)) {
    case 'MinKey':
      return 1;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 3;
    case 'BSONSymbol':
      return 4;
    case 'Binary':
      return 7;
    case 'ObjectId':
      return 8;
    case 'Timestamp':
      return 11;
    case 'BSONRegExp':
      return 12;
    case 'MaxKey':
      return 13;
    case 'Code':
      return 14;
    default:
      return 5;
  }
}

export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const tagged = value as { toNumber?: () => number; valueOf(): unknown; toString(): string };
  if (bsonType(value) === 'Decimal128') return Number.parseFloat(tagged.toString());
  if (typeof tagged.toNumber === 'function') return tagged.toNumber();
  return Number(tagged.valueOf());
}

/** Code point order equals UTF-8 byte order; JS `<` compares UTF-16 units and misorders astral characters. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i) as number;
    const cb = b.codePointAt(j) as number;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return Math.sign(a.length - i - (b.length - j));
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareNumbers(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : 1;
  return sign(a - b);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function compareObjects(a: Document, b: Document): number {
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  for (let i = 0; i < Math.min(ka.length, kb.length); i += 1) {
    const byType = typeRank(a[ka[i]]) - typeRank(b[kb[i]]);
    if (byType !== 0) return sign(byType);
    const byName = compareStrings(ka[i], kb[i]);
    if (byName !== 0) return byName;
    const byValue = compareBson(a[ka[i]], b[kb[i]]);
    if (byValue !== 0) return byValue;
  }
  return sign(ka.length - kb.length);
}

export function compareBson(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return sign(ra - rb);
  switch (ra) {
    case 3:
      return compareNumbers(toNumber(a), toNumber(b));
    case 4:
      return compareStrings(String(a), String(b));
    case 5:
      return compareObjects(a as Document, b as Document);
    case 6: {
      const xs = a as unknown[];
      const ys = b as unknown[];
      for (let i = 0; i < Math.min(xs.length, ys.length); i += 1) {
        const c = compareBson(xs[i], ys[i]);
        if (c !== 0) return c;
      }
      return sign(xs.length - ys.length);
    }
    case 7: {
      const x = a as { buffer: Uint8Array; sub_type: number };
      const y = b as { buffer: Uint8Array; sub_type: number };
      return sign(x.buffer.length - y.buffer.length) || sign(x.sub_type - y.sub_type) || compareBytes(x.buffer, y.buffer);
    }
    case 8:
      return compareBytes((a as { id: Uint8Array }).id, (b as { id: Uint8Array }).id);
    case 9:
      return sign(Number(a) - Number(b));
    case 10:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case 11: {
      const x = a as { t: number; i: number };
      const y = b as { t: number; i: number };
      return sign(x.t - y.t) || sign(x.i - y.i);
    }
    case 12: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return compareStrings(pa, pb) || compareStrings(fa, fb);
    }
    default:
      return compareStrings(String(a), String(b));
  }
}

function regexParts(value: unknown): [string, string] {
  if (value instanceof RegExp) return [value.source, value.flags];
  const r = value as { pattern: string; options: string };
  return [r.pattern, r.options];
}

/** Every value a dotted path reaches, descending through arrays like MongoDB does. */
export function valuesAtPath(value: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [value];
  if (Array.isArray(value)) {
    const [head, ...rest] = path;
    if (/^\d+$/.test(head) && Number(head) < value.length) return valuesAtPath(value[Number(head)], rest);
    return value.flatMap((item) => (item !== null && typeof item === 'object' ? valuesAtPath(item, path) : []));
  }
  if (value === null || typeof value !== 'object' || bsonType(value) !== undefined) return [];
  const [head, ...rest] = path;
  if (!(head in (value as Document))) return [];
  return valuesAtPath((value as Document)[head], rest);
}

/** Sort key of one field: arrays contribute their smallest (ascending) or largest (descending) element. */
function sortKey(doc: Document, field: string, direction: number): unknown {
  const candidates = valuesAtPath(doc, field.split('.')).flatMap((v) => (Array.isArray(v) && v.length > 0 ? v : [v]));
  if (candidates.length === 0) return null;
  const pick = candidates.reduce((best, v) => (compareBson(v, best) * direction < 0 ? v : best));
  return Array.isArray(pick) && pick.length === 0 ? EMPTY_ARRAY_MARKER : pick;
}

const EMPTY_ARRAY_MARKER = Symbol('empty array');

function compareKeys(a: unknown, b: unknown): number {
  if (a === EMPTY_ARRAY_MARKER || b === EMPTY_ARRAY_MARKER) {
    const rank = (v: unknown) => (v === EMPTY_ARRAY_MARKER ? EMPTY_ARRAY_RANK : typeRank(v));
    return a === b ? 0 : sign(rank(a) - rank(b));
  }
  return compareBson(a, b);
}

/** Stable sort by a MongoDB sort specification; `$natural` keeps (or reverses) insertion order. */
export function sortDocuments<T extends Document>(docs: T[], spec: Document | undefined): T[] {
  const fields = Object.entries(spec ?? {});
  if (fields.length === 0) return docs;
  if (fields.length === 1 && fields[0][0] === '$natural') return toDirection(fields[0][1]) < 0 ? [...docs].reverse() : docs;
  const keyed = docs.map((doc) => ({ doc, keys: fields.map(([f, d]) => sortKey(doc, f, toDirection(d))) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < fields.length; i += 1) {
      const c = compareKeys(x.keys[i], y.keys[i]) * toDirection(fields[i][1]);
      if (c !== 0) return c;
    }
    return 0;
  });
  return keyed.map((k) => k.doc);
}

function toDirection(value: unknown): number {
  const n = toNumber(value);
  if (n === 1 || n === -1) return n;
  throw new CommandError('BadValue', '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
}
