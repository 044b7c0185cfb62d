import fc from 'fast-check';
import { RATE_SCALE_MIN_PERMILLE, rateScaleAt } from '../../lambda/sluice/core/rate-scale';
import { PenaltyFactor } from '../../lambda/sluice/core/types';
import { SluiceLogEvent } from '../../lambda/sluice/ops/log-events';
import { DEFINITIONS, granted } from './fixtures';
import { memoryClient } from './helpers';

/**
 * The rate scale through the client (every client sees a cut; waits lengthen; upserts keep it)
 * and its invariants under random penalties (docs/design.md, "penalize and the rate scale").
 * The maths alone: rate-scale.unit.test.ts.
 */

describe('rate scale through the client', () => {
  async function seeded() {
    const env = memoryClient();
    await env.client.upsertBuckets(DEFINITIONS);
    return env;
  }

  it('every client sees the cut: snapshot reports the scale, which regains the ceiling, then probes above it', async () => {
    const { client, clock, logger, store } = await seeded();
    expect((await client.snapshot('openai#rpm')).rateScale).toBe(1);
    await client.penalize('openai#rpm', PenaltyFactor.firstRateLimit);
    expect(logger.events(SluiceLogEvent.penalizeApplied)[0]).toMatchObject({
      rate_scale_before: 1,
      rate_scale_after: 0.8,
      rate_ceiling_after: 0.95,
    });
    const other = memoryClient({ store, clock }).client;
    expect((await other.snapshot('openai#rpm')).rateScale).toBe(0.8);
    clock.advance(2_500);
    expect(await other.snapshot('openai#rpm')).toMatchObject({ rateScale: 0.9, refillPerSecond: 1 });
    clock.advance(1_250 + 10_000 + 1_000);
    expect((await other.snapshot('openai#rpm')).rateScale).toBe(0.97);
    clock.advance(1_500);
    expect((await other.snapshot('openai#rpm')).rateScale).toBe(1);
  });

  it('RetryIn waits lengthen after a penalty', async () => {
    const { client } = await seeded();
    for (let i = 0; i < 5; i++) granted(await client.acquire('waitwhile#rps'));
    expect(await client.acquire('waitwhile#rps')).toMatchObject({ outcome: 'RetryIn', waitSeconds: 0.2 });
    await client.penalize('waitwhile#rps', PenaltyFactor.repeatedRateLimit);
    expect(await client.acquire('waitwhile#rps')).toMatchObject({ outcome: 'RetryIn', waitSeconds: 0.4 });
  });

  it('upsertBuckets keeps the scale (live state)', async () => {
    const { client } = await seeded();
    await client.penalize('openai#rpm', 0.5);
    await client.upsertBuckets([
      { dimension: 'openai#rpm', limitType: 'requests', capacity: 30, windowSeconds: 60 },
    ]);
    expect(await client.snapshot('openai#rpm')).toMatchObject({ capacity: 30, rateScale: 0.5 });
  });

  it('a concurrent bucket still refuses penalize', async () => {
    const { client } = await seeded();
    await expect(client.penalize('sweeppea#concurrent')).rejects.toThrow('concurrent bucket');
    expect((await client.snapshot('sweeppea#concurrent')).rateScale).toBe(1);
  });
});

describe('rate scale invariants (property-based)', () => {
  const CAPACITY = 5;
  const RATE_PER_S = 2.5; // 5 per 2 s, as configured

  it('admitted ≤ capacity + configured rate · Δ and 0 ≤ tokens ≤ capacity, whatever the penalties', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('acquire' as const), cost: fc.integer({ min: 1, max: 3 }) }),
      fc.record({
        kind: fc.constant('penalize' as const),
        factor: fc.constantFrom(0.8, 0.5, 0.3, 1, 0.05),
      }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 80 }), async (ops) => {
        const { client, clock, store } = memoryClient();
        await client.upsertBuckets([
          { dimension: 'v#rps', limitType: 'requests', capacity: CAPACITY, windowSeconds: 2 },
        ]);
        const grants: { atMs: number; cost: number }[] = [];
        let lastScale = 1_000;
        for (const o of ops) {
          if (o.kind === 'advance') clock.advance(o.ms);
          if (o.kind === 'acquire') {
            const r = await client.acquire({ 'v#rps': o.cost });
            if (r.outcome === 'Granted') grants.push({ atMs: clock.nowMs, cost: o.cost });
          }
          if (o.kind === 'penalize') await client.penalize('v#rps', o.factor);
          const bucket = (await store.get('v'))!.buckets.rps!;
          expect(bucket.tokensMilli).toBeGreaterThanOrEqual(0);
          expect(bucket.tokensMilli).toBeLessThanOrEqual(bucket.capacityMilli);
          const scale = rateScaleAt(bucket, clock.nowMs);
          expect(scale).toBeGreaterThanOrEqual(RATE_SCALE_MIN_PERMILLE);
          expect(scale).toBeLessThanOrEqual(1_000);
          if (o.kind !== 'penalize') expect(scale).toBeGreaterThanOrEqual(lastScale); // only a penalty lowers it
          lastScale = scale;
        }
        for (let i = 0; i < grants.length; i++) {
          let admitted = 0;
          for (let j = i; j < grants.length; j++) {
            admitted += grants[j]!.cost;
            const allowed = CAPACITY + (RATE_PER_S * (grants[j]!.atMs - grants[i]!.atMs)) / 1000;
            expect(admitted).toBeLessThanOrEqual(allowed + 1e-9);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
