import { fullBucket, refill, take } from '../../lambda/sluice/bucket-math';
import type { BucketState } from '../../lambda/sluice/model';
import { PenaltyFactor } from '../../lambda/sluice/types';
import { memoryClient, T0 } from './helpers';

/**
 * Issue 6, "misconfiguration": the bucket is configured at 2× the vendor's true limit. One
 * client acquires as fast as the bucket allows (sleeping exactly the RetryIn waits, on a
 * simulated clock) and calls the "vendor", an exact token bucket at half the configured rate
 * and capacity. Every vendor refusal is answered as the worker does: penalize 0.8, or 0.5 when
 * the previous refusal was less than 60 s ago.
 */

const CONFIGURED = { capacity: 20, windowSeconds: 1 }; // 20 requests per second
const TRUE_LIMIT = { capacityMilli: 10_000, windowMs: 1_000 }; // the vendor: 10 per second
const WINDOW_MS = 10_000;
const DURATION_MS = 300_000;

interface SimulationWindow {
  readonly startS: number;
  readonly calls: number;
  readonly refusals: number;
  readonly rateScale: number;
}

async function simulateMisconfiguration(durationMs = DURATION_MS): Promise<SimulationWindow[]> {
  const { client, clock } = memoryClient();
  await client.upsertBuckets([{ dimension: 'sim#rps', limitType: 'requests', ...CONFIGURED }]);
  let vendor: BucketState = fullBucket({ limitType: 'requests', costPerCall: 1, ...TRUE_LIMIT }, T0);
  let lastRefusalAtMs = Number.NEGATIVE_INFINITY;
  const windows: SimulationWindow[] = [];
  let calls = 0;
  let refusals = 0;
  let windowEnd = T0 + WINDOW_MS;
  const closeWindows = async () => {
    while (clock.nowMs >= windowEnd) {
      const { rateScale } = await client.snapshot('sim#rps');
      windows.push({
        startS: (windowEnd - WINDOW_MS - T0) / 1000,
        calls,
        refusals,
        rateScale: rateScale ?? 1,
      });
      calls = 0;
      refusals = 0;
      windowEnd += WINDOW_MS;
    }
  };
  while (clock.nowMs < T0 + durationMs) {
    const result = await client.acquire('sim#rps');
    if (result.outcome === 'RetryIn') {
      clock.advance(Math.max(1, Math.round(result.waitSeconds * 1000)));
      await closeWindows();
      continue;
    }
    calls++;
    const answer = take(refill(vendor, clock.nowMs), 1_000, clock.nowMs);
    if (answer.ok) vendor = answer.bucket;
    else {
      refusals++;
      const repeated = clock.nowMs - lastRefusalAtMs < 60_000;
      lastRefusalAtMs = clock.nowMs;
      await client.penalize(
        'sim#rps',
        repeated ? PenaltyFactor.repeatedRateLimit : PenaltyFactor.firstRateLimit,
      );
    }
    await closeWindows();
  }
  return windows;
}

describe('AIMD under misconfiguration (bucket at 2× the true limit, simulated clock)', () => {
  it('brings vendor refusals below 2 % per 10 s window within 60 s, and keeps them there', async () => {
    const windows = await simulateMisconfiguration();
    const table = windows.map(
      (w) =>
        `${String(w.startS).padStart(4)} s  calls ${String(w.calls).padStart(4)}  refusals ${String(w.refusals).padStart(3)}` +
        `  ${((100 * w.refusals) / Math.max(1, w.calls)).toFixed(2).padStart(6)} %  scale ${w.rateScale.toFixed(3)}`,
    );
    if (process.env.SLUICE_PRINT_SIMULATION) console.log(table.join('\n'));
    expect(windows).toHaveLength(DURATION_MS / WINDOW_MS);
    // Every 10 s window ending at 60 s or later: under 2 % refused, and throughput kept
    // (the vendor allows 100 calls per window; the cuts must not collapse the rate).
    for (const w of windows.filter((w) => w.startS >= 50)) {
      expect(w.refusals / w.calls).toBeLessThan(0.02);
      expect(w.calls).toBeGreaterThanOrEqual(80);
    }
  });
});
