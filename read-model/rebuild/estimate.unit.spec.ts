import { estimatedSeconds } from './rebuild';

describe('rebuild estimate', () => {
  it('never reads 0 seconds while there are events to replay', () => {
    expect(estimatedSeconds(3000, 3_000_000)).toBe(0.1);
    expect(estimatedSeconds(1, Number.MAX_SAFE_INTEGER)).toBe(0.1);
  });

  it('rounds up to a tenth of a second', () => {
    expect(estimatedSeconds(100_000, 30_000)).toBe(3.4);
    expect(estimatedSeconds(60_000, 30_000)).toBe(2);
  });

  it('has no estimate when nothing is to be replayed or nothing was sampled', () => {
    expect(estimatedSeconds(0, 30_000)).toBeNull();
    expect(estimatedSeconds(500, null)).toBeNull();
  });
});
