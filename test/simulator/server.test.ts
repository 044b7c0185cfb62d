import {
  formatGoDuration,
  startVendorSimulator,
  tokenUsage,
  type VendorSimulator,
} from '../../local/simulator';
import { call, statuses } from './helpers';

let nowMs = 5_000;
const clock = () => nowMs;
let simulator: VendorSimulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

/** Draws in a fixed order, so which request meets a fault is known in advance. */
const sequence =
  (...draws: number[]) =>
  () =>
    draws.shift() ?? 0.99;

describe('the simulator, whatever the profile', () => {
  it('answers 401 without the right Bearer key, and counts it as a call, not a refusal', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0, apiKey: 'k-1' });
    const url = simulator.url;
    const answers = [
      await call(url, 'GET', '/locations/a', { key: null }),
      await call(url, 'GET', '/locations/a', { key: 'wrong' }),
      await call(url, 'GET', '/locations/a', { key: 'k-1' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 200]);
    expect(answers[0]?.body).toEqual({ error: 'Invalid or missing API key' });
    expect(simulator.stats()).toMatchObject({ calls: 3, refusals: 0, byStatus: { 200: 1, 401: 2 } });
  });

  it('answers 404 to a path the profile does not serve', async () => {
    simulator = await startVendorSimulator({ profile: 'openai', clock, latencyMs: 0 });
    const answer = await call(simulator.url, 'GET', '/v1/models');
    expect([answer.status, answer.body]).toEqual([404, { error: 'No route GET /v1/models' }]);
  });

  it('replays the stored answer to a repeated idempotency key without doing the work again', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0 });
    const url = simulator.url;
    const send = () =>
      call(url, 'POST', '/locations/loc-1/visits', {
        body: { name: 'Ada' },
        headers: { 'Idempotency-Key': 'msg-1' },
      });
    const first = await send();
    // Within the same second: a new write would be "Location too busy", the replay is not.
    const second = await send();
    expect([first.status, second.status, second.body, second.headers.get('idempotent-replayed')]).toEqual([
      201,
      201,
      first.body,
      'true',
    ]);
    expect(simulator.stats()).toMatchObject({
      completions: 1,
      duplicateCompletions: 1,
      byIdempotencyKey: { 'msg-1': 2 },
    });
  });

  it('injects 500s after admission, at the configured rate', async () => {
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      faults: { errorRate: 0.5 },
      random: sequence(0.1, 0.9, 0.4, 0.6),
    });
    const url = simulator.url;
    const result = await statuses(4, (i) => call(url, 'GET', `/locations/${i}`));
    expect(result).toEqual([500, 200, 500, 200]);
    expect(simulator.stats()).toMatchObject({
      faults: { error: 2, slow: 0, drop: 0, hang: 0 },
      byStatus: { 200: 2, 500: 2 },
    });
  });

  it('drops the connection without an answer', async () => {
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      faults: { dropRate: 1 },
    });
    await expect(call(simulator.url, 'GET', '/locations/a')).rejects.toThrow('fetch failed');
    expect(simulator.stats()).toMatchObject({
      calls: 1,
      faults: { drop: 1 },
      timeline: [{ atMs: 5_000, status: 0 }],
    });
  });

  it('answers slowly when told to, and still answers', async () => {
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      faults: { slowRate: 1, slowMs: 30 },
    });
    const answer = await call(simulator.url, 'GET', '/locations/a');
    expect([answer.status, simulator.stats().faults.slow]).toEqual([200, 1]);
  });

  it('hangs until the client gives up, keeping a sweeppea endpoint busy meanwhile', async () => {
    simulator = await startVendorSimulator({
      profile: 'sweeppea',
      clock,
      latencyMs: 0,
      random: sequence(0),
      faults: { hangRate: 0.5 },
    });
    const url = simulator.url;
    const controller = new AbortController();
    const hung = call(url, 'POST', '/v1/contacts', { body: {}, signal: controller.signal });
    // The hung call is in service once the second is refused; then the client gives up.
    let busy = await call(url, 'POST', '/v1/contacts', { body: {} });
    while (busy.status !== 503) busy = await call(url, 'POST', '/v1/contacts', { body: {} });
    controller.abort();
    await expect(hung).rejects.toThrow('This operation was aborted');
    let freed = await call(url, 'POST', '/v1/contacts', { body: {} });
    while (freed.status === 503) freed = await call(url, 'POST', '/v1/contacts', { body: {} });
    expect([busy.status, freed.status, simulator.stats().faults.hang]).toEqual([503, 201, 1]);
  });

  it('stops even while a request hangs', async () => {
    const hanging = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      faults: { hangRate: 1 },
    });
    const pending = call(hanging.url, 'GET', '/locations/a').catch((error: Error) => error.message);
    while (hanging.stats().faults.hang === 0) await new Promise((resolve) => setImmediate(resolve));
    await hanging.stop();
    expect(await pending).toBe('fetch failed');
  });

  it('records a timeline by its clock, and reset clears it and refills the limits', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0 });
    const url = simulator.url;
    await statuses(6, () => call(url, 'GET', '/locations/a'));
    nowMs += 10;
    await call(url, 'GET', '/locations/a');
    const before = simulator.stats();
    simulator.reset();
    const after = await call(url, 'GET', '/locations/a');
    expect(before.timeline).toEqual([
      ...Array.from({ length: 5 }, () => ({ atMs: 5_000, status: 200 })),
      { atMs: 5_000, status: 429 },
      { atMs: 5_010, status: 429 },
    ]);
    expect([after.status, simulator.stats().calls]).toEqual([200, 1]);
  });

  it('hands out a copy of its statistics', async () => {
    simulator = await startVendorSimulator({ profile: 'waitwhile', clock, latencyMs: 0 });
    const snapshot = simulator.stats();
    await call(simulator.url, 'GET', '/locations/a');
    expect([snapshot.calls, simulator.stats().calls]).toEqual([0, 1]);
  });
});

describe('simulator arithmetic', () => {
  it('writes reset times as Go durations, like OpenAI', () => {
    expect([0.02, 0.12, 1, 12.5, 360, 61.02].map(formatGoDuration)).toEqual([
      '20ms',
      '120ms',
      '1s',
      '12.5s',
      '6m0s',
      '1m1.02s',
    ]);
  });

  it('charges prompt characters / 4 plus three quarters of max_tokens', () => {
    expect([
      tokenUsage({ messages: [{ content: 'abcdefgh' }, { content: 'ij' }], max_tokens: 100 }),
      tokenUsage({ messages: [{ content: 'a' }] }),
      tokenUsage({ messages: [] }),
    ]).toEqual([
      { prompt_tokens: 3, completion_tokens: 75, total_tokens: 78 },
      { prompt_tokens: 1, completion_tokens: 12, total_tokens: 13 },
      undefined,
    ]);
  });
});
