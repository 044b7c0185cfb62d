import { readRateLimitHeaders } from '../../lambda/vendor-api/headers';
import { startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { call } from './helpers';

/**
 * The simulator's fixed-window mode: 3 requests per 1 s window anchored at the first request,
 * the standard headers as express-rate-limit writes them, Retry-After on a refusal, and a count
 * of requests sent before a Retry-After expired. The clock is injected: no test waits.
 */
let nowMs = 10_000;
const clock = () => nowMs;
let simulator: VendorSimulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

const waitwhileRead = (url: string) => call(url, 'GET', '/locations/a');

describe('the fixed-window mode', () => {
  it('admits 3 per window from the first request, refuses the 4th with Retry-After and the standard headers', async () => {
    nowMs = 10_000;
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      limits: { requestsPerSecond: 1_000 },
      fixedWindow: { limit: 3, windowSeconds: 1 },
    });
    const url = simulator.url;
    const first = await waitwhileRead(url);
    nowMs += 300;
    await waitwhileRead(url);
    nowMs += 300;
    const third = await waitwhileRead(url);
    nowMs += 100;
    const fourth = await waitwhileRead(url);
    expect([first.status, third.status, fourth.status]).toEqual([200, 200, 429]);
    expect(first.headers.get('ratelimit-policy')).toBe('"3-in-1sec"; q=3; w=1');
    expect(first.headers.get('ratelimit')).toBe('"3-in-1sec"; r=2; t=1');
    expect(fourth.headers.get('retry-after')).toBe('1');
    // The worker's header reader understands them: the remaining count resynchronises the bucket.
    expect(readRateLimitHeaders(third.headers, nowMs)).toEqual({
      limitRequests: 3,
      limitRequestsWindowSeconds: 1,
      remainingRequests: 0,
      resetRequestsSeconds: 1,
    });
    // The window anchored at 10,000 ends at 11,000: a request at 10,999 is still refused, and
    // came before the Retry-After (10,700 + 1 s) expired; one at 11,000 opens the next window.
    nowMs = 10_999;
    expect((await waitwhileRead(url)).status).toBe(429);
    expect(simulator.stats().sentBeforeRetryAfter).toBe(1);
    nowMs = 11_000;
    expect((await waitwhileRead(url)).status).toBe(200);
    // The refusal at 10,999 said Retry-After 1: the request at 11,000 was early too, though
    // admitted; the one at 11,999 is not.
    nowMs = 11_999;
    expect((await waitwhileRead(url)).status).toBe(200);
    expect(simulator.stats()).toMatchObject({ calls: 7, refusals: 2, sentBeforeRetryAfter: 2 });
  });

  it('counts nothing early when every request waits out the Retry-After', async () => {
    nowMs = 50_000;
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      limits: { requestsPerSecond: 1_000 },
      fixedWindow: { limit: 1, windowSeconds: 2 },
    });
    await waitwhileRead(simulator.url);
    nowMs += 500;
    const refused = await waitwhileRead(simulator.url);
    expect(refused.headers.get('retry-after')).toBe('2');
    nowMs += 2_000;
    expect((await waitwhileRead(simulator.url)).status).toBe(200);
    expect(simulator.stats().sentBeforeRetryAfter).toBe(0);
  });
});
