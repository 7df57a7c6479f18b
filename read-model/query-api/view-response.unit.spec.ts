import { decodeCursor, encodeCursor, notModified, preferredWait } from './view-response';

const request = (headers: Record<string, string>) => ({ headers }) as never;

describe('query API helpers', () => {
  it('bounds Prefer: wait to 10 s, defaults to 2 s and takes only whole seconds', () => {
    expect(preferredWait(request({}))).toBe(2000);
    expect(preferredWait(request({ prefer: 'wait=0' }))).toBe(0);
    expect(preferredWait(request({ prefer: 'return=minimal, wait=3' }))).toBe(3000);
    expect(preferredWait(request({ prefer: 'wait=999' }))).toBe(10_000);
    for (const prefer of ['wait=soon', 'wait=0.5', 'wait=1e9', 'wait=0x10', 'wait=-1', 'wait=']) {
      expect(() => preferredWait(request({ prefer }))).toThrow();
    }
  });

  it('answers 304 only for the current ETag', () => {
    const response = () => {
      const headers: Record<string, string> = {};
      let status = 200;
      return {
        res: { setHeader: (k: string, v: string) => (headers[k] = v), status: (s: number) => (status = s) } as never,
        status: () => status,
        headers,
      };
    };
    const hit = response();
    expect(notModified(request({ 'if-none-match': 'W/"3", "4"' }), hit.res, 4)).toBe(true);
    expect(hit.status()).toBe(304);
    const miss = response();
    expect(notModified(request({ 'if-none-match': '"3"' }), miss.res, 4)).toBe(false);
    expect(miss.headers.ETag).toBe('"4"');
  });

  it('binds a cursor to its sort', () => {
    const cursor = encodeCursor('price', 1200, 'MUG');
    expect(decodeCursor(cursor, 'price')).toEqual({ value: 1200, id: 'MUG' });
    expect(() => decodeCursor(cursor, '-price')).toThrow();
    expect(() => decodeCursor('not-a-cursor', 'price')).toThrow();
  });
});
