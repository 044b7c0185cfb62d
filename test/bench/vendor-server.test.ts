import { startLimitedVendor } from '../../bench/servers/vendor-server';

/** The drain stage's vendor (served by the pool stage's server): its true limit, on an injected clock. */
describe('the limited vendor of the drain stage', () => {
  it('admits its limit at once, refuses the next call with 429 and Retry-After, and refills with the clock', async () => {
    let nowMs = 1_000_000;
    const vendor = await startLimitedVendor(2, () => nowMs);
    try {
      const call = async () => {
        const response = await fetch(`${vendor.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
        return {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          body: await response.json(),
        };
      };
      const first = await call();
      const second = await call();
      const refused = await call();
      nowMs += 500; // one call's worth of refill at 2 per second
      const refilled = await call();
      expect([first, second, refilled]).toEqual(
        Array.from({ length: 3 }, () => ({
          status: 200,
          retryAfter: null,
          body: { ok: true, usage: { total_tokens: 1 } },
        })),
      );
      expect(refused).toEqual({
        status: 429,
        retryAfter: '1',
        body: { error: { message: 'Rate limit exceeded' } },
      });
      expect(vendor.calls.map(({ atMs, status }) => ({ atMs, status }))).toEqual([
        { atMs: 1_000_000, status: 200 },
        { atMs: 1_000_000, status: 200 },
        { atMs: 1_000_000, status: 429 },
        { atMs: 1_000_500, status: 200 },
      ]);
    } finally {
      await vendor.stop();
    }
  });
});
