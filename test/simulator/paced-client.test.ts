import { startVendorSimulator } from '../../local/simulator';
import { call, chat } from './helpers';

/**
 * A client that paces itself with token buckets at the simulator's true limits (what Sluice
 * does) meets no refusal: the simulator's limits and Sluice's buckets share one model.
 */
class PacingBucket {
  private tokens: number;
  private atMs: number;
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    startMs: number,
  ) {
    this.tokens = capacity;
    this.atMs = startMs;
  }
  tryTake(cost: number, nowMs: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.atMs) / 1000) * this.perSecond);
    this.atMs = nowMs;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}

it('admits every waitwhile call a client paces at 5/s and 1 write/s per location', async () => {
  let nowMs = 0;
  const simulator = await startVendorSimulator({ profile: 'waitwhile', clock: () => nowMs, latencyMs: 0 });
  try {
    const general = new PacingBucket(5, 5, nowMs);
    const locations = ['loc-1', 'loc-2', 'loc-3'].map((id) => ({
      id,
      bucket: new PacingBucket(1, 1, nowMs),
    }));
    let sent = 0;
    for (let step = 0; step < 200; step += 1, nowMs += 50) {
      const location = locations[step % locations.length];
      if (!location?.bucket.tryTake(1, nowMs)) continue;
      if (!general.tryTake(1, nowMs)) continue;
      await call(simulator.url, 'POST', `/locations/${location.id}/visits`, { body: {} });
      sent += 1;
    }
    expect([sent, simulator.stats().refusals]).toEqual([30, 0]);
  } finally {
    await simulator.stop();
  }
});

it('admits every openai call a client paces at the rpm and tpm limits, settling on usage', async () => {
  let nowMs = 0;
  const simulator = await startVendorSimulator({
    profile: 'openai',
    clock: () => nowMs,
    latencyMs: 0,
    limits: { requestsPerMinute: 60, tokensPerMinute: 6_000 },
  });
  try {
    const requests = new PacingBucket(60, 1, nowMs);
    let tokens = 6_000;
    let atMs = nowMs;
    let sent = 0;
    for (let step = 0; step < 600; step += 1, nowMs += 100) {
      tokens = Math.min(6_000, tokens + ((nowMs - atMs) / 1000) * 100);
      atMs = nowMs;
      // The estimate is max_tokens plus the prompt; the answer's usage settles it.
      const estimate = 400 + 10;
      if (tokens < estimate || !requests.tryTake(1, nowMs)) continue;
      tokens -= estimate;
      const answer = await call(simulator.url, 'POST', '/v1/chat/completions', {
        body: chat('x'.repeat(40), 400),
      });
      tokens += estimate - (answer.body as { usage: { total_tokens: number } }).usage.total_tokens;
      sent += 1;
    }
    expect([sent, simulator.stats().refusals]).toEqual([38, 0]);
  } finally {
    await simulator.stop();
  }
});
