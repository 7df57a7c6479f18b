import { redact } from './postgres';
import { connectionFailure, reasonOf, UnreachableError } from './unreachable';

const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5999`), { code });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('unreachable dependencies', () => {
  it.each([
    ['a refused connection', systemError('ECONNREFUSED'), 'ECONNREFUSED'],
    ['a host that does not resolve', systemError('ENOTFOUND'), 'ENOTFOUND'],
    ['PostgreSQL shutting down (57P01)', pgError('57P01', 'terminating connection due to administrator command'), 'terminating connection due to administrator command'],
    ['PostgreSQL starting up (57P03)', pgError('57P03', 'the database system is starting up'), 'the database system is starting up'],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly'), 'Connection terminated unexpectedly'],
    ['a pool out of time', new Error('timeout exceeded when trying to connect'), 'timeout exceeded when trying to connect'],
    ['MongoDB server selection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { name: 'MongoServerSelectionError' }), 'ECONNREFUSED'],
    ['a wrapped cause', new Error('append failed', { cause: systemError('ECONNRESET') }), 'ECONNRESET'],
    ['several addresses refused (AggregateError)', Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
  ])('recognises %s', (_, error, reason) => {
    expect(connectionFailure(error)).toBe(reason);
  });

  it.each([
    ['a unique violation', pgError('23505', 'duplicate key value violates unique constraint')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'sku')")],
    ['not an error', 'ECONNREFUSED'],
  ])('leaves %s alone', (_, error) => {
    expect(connectionFailure(error)).toBeUndefined();
  });

  it('names the store, its URL without the password, the reason and the setting', () => {
    const error = new UnreachableError('write store', 'postgres://app:s3cret@127.0.0.1:5999/x', reasonOf(systemError('ECONNREFUSED')));
    expect(error.message).toBe('cannot reach the write store at postgres://app:***@127.0.0.1:5999/x (ECONNREFUSED); check DATABASE_URL');
    expect(new UnreachableError('NATS', 'nats://127.0.0.1:4222', 'CONNECTION_REFUSED').message).toBe(
      'cannot reach NATS at nats://127.0.0.1:4222 (CONNECTION_REFUSED); check NATS_URL',
    );
  });

  it('redacts every password of a URL list and password parameters', () => {
    expect(redact('nats://a:pw1@n1:4222,nats://b:pw2@n2:4222')).toBe('nats://a:***@n1:4222,nats://b:***@n2:4222');
    expect(redact('postgres://app@db/x?sslmode=require&password=s3cret')).toBe('postgres://app@db/x?sslmode=require&password=***');
    // Redis URLs carry a password without a user.
    expect(redact('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redact('redis://cache:6379')).toBe('redis://cache:6379');
  });
});
