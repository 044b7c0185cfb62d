import { startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { call, chat, statuses } from './helpers';

/** Each profile's true limits produce the documented refusals; time is a controllable clock. */

let nowMs = 1_000_000;
const clock = () => nowMs;
let simulator: VendorSimulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

describe('the sweeppea profile (one request at a time per endpoint, 60 per minute)', () => {
  it('answers 503 to a second request while the endpoint serves the first', async () => {
    simulator = await startVendorSimulator({ profile: 'sweeppea', clock, latencyMs: 200 });
    const url = simulator.url;
    const answers = await Promise.all([
      call(url, 'POST', '/v1/contacts', { body: { email: 'a@example.com' } }),
      call(url, 'POST', '/v1/contacts', { body: { email: 'b@example.com' } }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 503]);
    expect(answers.find((a) => a.status === 503)?.body).toEqual({
      error: 'Service Unavailable: processing another request',
    });
    expect(simulator.stats()).toMatchObject({ calls: 2, refusals: 1, refusedByStatus: { 503: 1 } });
  });

  it('serves two different endpoints at the same time', async () => {
    simulator = await startVendorSimulator({ profile: 'sweeppea', clock, latencyMs: 100 });
    const url = simulator.url;
    const answers = await Promise.all([
      call(url, 'POST', '/v1/contacts', { body: {} }),
      call(url, 'GET', '/v1/contacts/c-1'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([201, 200]);
  });

  it('answers 429 with Retry-After above 60 requests per minute, and admits again after a second', async () => {
    simulator = await startVendorSimulator({ profile: 'sweeppea', clock, latencyMs: 0 });
    const url = simulator.url;
    const first = await statuses(61, () => call(url, 'POST', '/v1/contacts', { body: {} }));
    const refused = await call(url, 'POST', '/v1/contacts', { body: {} });
    nowMs += 1_000;
    const later = await call(url, 'POST', '/v1/contacts', { body: {} });
    expect([
      first.filter((s) => s === 201).length,
      first[60],
      refused.headers.get('retry-after'),
      later.status,
    ]).toEqual([60, 429, '1', 201]);
    expect(simulator.stats().refusedByStatus).toEqual({ 429: 2 });
  });
});

describe('the waitwhile profile (5 requests/s, 1 write/s per location)', () => {
  it('answers 429 with Retry-After on the sixth request within a second, and refills continuously', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0 });
    const url = simulator.url;
    const burst = await statuses(6, (i) => call(url, 'GET', `/locations/loc-${i}`));
    nowMs += 200;
    const refilled = await statuses(2, () => call(url, 'GET', '/locations/loc-1'));
    expect([burst, refilled]).toEqual([
      [200, 200, 200, 200, 200, 429],
      [200, 429],
    ]);
  });

  it('answers 409 "Location too busy" to a second write to one location within a second', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0 });
    const url = simulator.url;
    const visit = (location: string) =>
      call(url, 'POST', `/locations/${location}/visits`, { body: { name: 'Ada' } });
    const answers = [await visit('loc-1'), await visit('loc-1'), await visit('loc-2')];
    const byBody = await call(url, 'POST', '/visits', { body: { locationId: 'loc-2' } });
    nowMs += 1_000;
    const again = await visit('loc-1');
    expect([...answers.map((a) => a.status), byBody.status, again.status]).toEqual([201, 409, 201, 409, 201]);
    expect(answers[1]?.body).toEqual({ error: 'Location too busy', locationId: 'loc-1' });
    expect(simulator.stats()).toMatchObject({ refusals: 2, refusedByStatus: { 409: 2 } });
  });

  it('forgives a write that arrives up to 50 ms early (graceMs), not more', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0 });
    const url = simulator.url;
    const visit = (location: string) => call(url, 'POST', `/locations/${location}/visits`, { body: {} });
    await visit('early-a');
    await visit('early-b');
    nowMs += 940;
    const tooEarly = await visit('early-a');
    nowMs += 20;
    const forgiven = await visit('early-b');
    expect([tooEarly.status, forgiven.status]).toEqual([409, 201]);
  });

  it('counts a write refused with 409 against the general limit too', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0 });
    const url = simulator.url;
    const writes = await statuses(5, () => call(url, 'POST', '/locations/loc-1/visits', { body: {} }));
    const read = await call(url, 'GET', '/locations/loc-1');
    expect([writes, read.status]).toEqual([[201, 409, 409, 409, 409], 429]);
  });
});

describe('the openai profile (requests and tokens per minute)', () => {
  it('reports its limits in x-ratelimit headers and the usage it charged in the body', async () => {
    simulator = await startVendorSimulator({ profile: 'openai', clock, latencyMs: 0 });
    const answer = await call(simulator.url, 'POST', '/v1/chat/completions', {
      body: chat('x'.repeat(40), 200),
    });
    expect(answer.status).toBe(200);
    expect((answer.body as { usage: unknown }).usage).toEqual({
      prompt_tokens: 10,
      completion_tokens: 150,
      total_tokens: 160,
    });
    expect(
      Object.fromEntries([...answer.headers].filter(([name]) => name.startsWith('x-ratelimit'))),
    ).toEqual({
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-limit-tokens': '40000',
      'x-ratelimit-remaining-tokens': '39840',
      'x-ratelimit-reset-tokens': '240ms',
    });
  });

  it('answers 429 with Retry-After when the tokens per minute run out', async () => {
    simulator = await startVendorSimulator({
      profile: 'openai',
      clock,
      latencyMs: 0,
      limits: { tokensPerMinute: 1_000 },
    });
    const url = simulator.url;
    const ask = () => call(url, 'POST', '/v1/chat/completions', { body: chat('x'.repeat(40), 400) });
    const answers = [await ask(), await ask(), await ask(), await ask()];
    const refused = answers[3];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect([
      refused?.body,
      refused?.headers.get('retry-after'),
      refused?.headers.get('x-ratelimit-remaining-tokens'),
    ]).toEqual([
      {
        error: {
          message: 'Rate limit reached for tokens per minute',
          type: 'tokens',
          code: 'rate_limit_exceeded',
        },
      },
      // Each call is charged 10 prompt + 300 completion tokens; 70 are left, and the missing 240 refill at 1,000/min in 14.4 s.
      '15',
      '70',
    ]);
  });

  it('answers 429 when the requests per minute run out', async () => {
    simulator = await startVendorSimulator({
      profile: 'openai',
      clock,
      latencyMs: 0,
      limits: { requestsPerMinute: 3 },
    });
    const url = simulator.url;
    const result = await statuses(4, () =>
      call(url, 'POST', '/v1/chat/completions', { body: chat('hi', 10) }),
    );
    expect(result).toEqual([200, 200, 200, 429]);
    expect(simulator.stats().refusedByStatus).toEqual({ 429: 1 });
  });

  it('answers 400 to a request without messages, and counts no refusal', async () => {
    simulator = await startVendorSimulator({ profile: 'openai', clock, latencyMs: 0 });
    const answer = await call(simulator.url, 'POST', '/v1/chat/completions', {
      body: { model: 'gpt-4o-mini' },
    });
    expect([answer.status, simulator.stats().refusals]).toEqual([400, 0]);
  });
});
