import { anchoredFixedWindow, openAiTokenBuckets, windowCounter } from '../../bench/servers/zoo-vendors';

/** The zoo's vendors count as their algorithms define (the libraries' own clocks are real, so only what needs no waiting is checked for them). */
describe('the vendor zoo counts as each vendor defines its window', () => {
  it('rate-limiter-flexible: a fixed window of 3 admits 3 and refuses the 4th, with Retry-After and the IETF headers', async () => {
    const vendor = anchoredFixedWindow(3, 1);
    const now = Date.now();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await vendor.admit(now));
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, false]);
    expect(answers[3]!.headers).toMatchObject({
      'retry-after': '1',
      'ratelimit-policy': '"3-in-1sec"; q=3; w=1',
      ratelimit: '"3-in-1sec"; r=0; t=1',
    });
    // The vendor counted 4 requests in one of its windows: one second above the limit.
    expect(vendor.secondsAboveLimit()).toBe(1);
  });

  it('limiter: OpenAI-like buckets start full and refuse once the tokens run out, with x-ratelimit-* headers', async () => {
    const vendor = openAiTokenBuckets(180, 300, 100);
    const now = Date.now();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await vendor.admit(now));
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, false]);
    expect(answers[3]!.headers['x-ratelimit-limit-tokens']).toBe('300');
    expect(Number(answers[3]!.headers['x-ratelimit-remaining-tokens'])).toBeLessThan(100);
    expect(Number(answers[3]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('a fixed window on clock boundaries resets at the second, however late in it the burst came', async () => {
    const vendor = windowCounter('fixed-window-clock', 3, 1);
    const admitted = [];
    for (const atMs of [10_900, 10_950, 10_990, 10_995, 11_000, 11_001, 11_002, 11_003]) {
      admitted.push((await vendor.admit(atMs)).ok);
    }
    expect(admitted).toEqual([true, true, true, false, true, true, true, false]);
  });

  it('a sliding log counts every admitted request of the last window', async () => {
    const vendor = windowCounter('sliding-log', 3, 1);
    const admitted = [];
    for (const atMs of [0, 400, 800, 999, 1_001, 1_300, 1_401, 1_801])
      admitted.push((await vendor.admit(atMs)).ok);
    // At 1,001 the request of 0 left the window; at 1,300 the window still holds 400, 800 and 1,001.
    expect(admitted).toEqual([true, true, true, false, true, false, true, true]);
  });

  it("a sliding counter weights the previous window by the share still inside (Cloudflare's formula)", async () => {
    const vendor = windowCounter('sliding-counter', 3, 1);
    for (const atMs of [100, 200, 300]) expect((await vendor.admit(atMs)).ok).toBe(true);
    // At 1,500: 3 × 0.5 + 0 = 1.5 counted, so one more fits (2.5 ≤ 3) and the next (3.5) does not.
    expect((await vendor.admit(1_500)).ok).toBe(true);
    expect((await vendor.admit(1_500)).ok).toBe(false);
    expect(vendor.secondsAboveLimit()).toBe(1);
  });
});
