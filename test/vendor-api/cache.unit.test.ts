import { ResponseCache } from '../../lambda/vendor-api/cache';

/** The read cache is bounded by entries and by the bytes of the bodies it holds. */
describe('ResponseCache', () => {
  it('evicts the oldest entries to stay within its byte budget, and never keeps a body larger than it', () => {
    const cache = new ResponseCache<string>(100, 1_000);
    cache.set('a', 'A', 0, 60, 400);
    cache.set('b', 'B', 0, 60, 400);
    expect([cache.size, cache.bytes]).toEqual([2, 800]);
    cache.set('c', 'C', 0, 60, 400);
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1), cache.bytes]).toEqual([
      undefined,
      'B',
      'C',
      800,
    ]);
    cache.set('huge', 'H', 0, 60, 1_001);
    expect([cache.get('huge', 1), cache.size, cache.bytes]).toEqual([undefined, 2, 800]);
  });

  it('gives back the bytes of a replaced or expired entry', () => {
    const cache = new ResponseCache<string>(100, 1_000);
    cache.set('a', 'A', 0, 1, 600);
    cache.set('a', 'A2', 0, 1, 300);
    expect(cache.bytes).toBe(300);
    expect(cache.get('a', 5_000)).toBeUndefined();
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });

  it('still bounds the number of entries', () => {
    const cache = new ResponseCache<number>(2, 1_000_000);
    for (const key of ['a', 'b', 'c']) cache.set(key, 1, 0, 60, 1);
    expect([cache.get('a', 1), cache.size]).toEqual([undefined, 2]);
  });
});
