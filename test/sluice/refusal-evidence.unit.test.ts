import fc from 'fast-check';
import { fullBucket, take } from '../../lambda/sluice/core/bucket-math';
import { parseDimension } from '../../lambda/sluice/core/dimensions';
import type { BucketItem, BucketState } from '../../lambda/sluice/core/model';
import type { Target } from '../../lambda/sluice/core/plan/grant-plan';
import {
  betsOnContendedView,
  CONTENDED_WITHIN_MS,
  scarceUnderContention,
} from '../../lambda/sluice/core/plan/refusal-evidence';
import { T0 } from './helpers';

/**
 * When a caller reads before writing, and when it steps back after a conflict: both ask whether
 * the bucket holds a cost for this caller and for each other writer seen lately. A near-empty
 * bucket that several clients take from is raced for; a write on it usually fails, and each
 * failed write is billed (a refusal should cost no write).
 */
const address = parseDimension('openai#rpm');
const target: Target = { address, cost: 1, costMilli: 1_000, limitType: 'requests' };
/** 50 per second, full at T0. */
const definition = { limitType: 'requests' as const, capacityMilli: 50_000, windowMs: 1_000, costPerCall: 1 };

function withTokens(tokensMilli: number, atMs: number): BucketState {
  const full = fullBucket(definition, atMs);
  const result = take(full, full.tokensMilli - tokensMilli, atMs);
  if (!result.ok) throw new Error('the fixture takes what a full bucket holds');
  return result.bucket;
}

function item(bucket: BucketState, writers: Record<string, number>): BucketItem {
  return { pk: address.pk, version: 1, buckets: { [address.metric]: bucket }, templates: {}, writers };
}

const others = (count: number, atMs: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`other${i}.0`, atMs - 10]));

describe('a write on a contended near-empty view is read first', () => {
  it('a view of 2 tokens that 3 other writers took from lately, refilled since: read first', () => {
    const view = item(withTokens(2_000, T0), { ...others(3, T0), 'me.0': T0 - 5 });
    expect(betsOnContendedView(view, [target], T0, T0 + 50, 'me')).toBe(true);
  });

  it('a view with a cost for every writer (a hot bucket) is written at once', () => {
    const view = item(withTokens(4_000, T0), others(3, T0));
    expect(betsOnContendedView(view, [target], T0, T0 + 50, 'me')).toBe(false);
  });

  it('an item only this client writes is written at once, however empty', () => {
    const view = item(withTokens(0, T0), { 'me.0': T0, 'me.1': T0 });
    expect(betsOnContendedView(view, [target], T0, T0 + 50, 'me')).toBe(false);
  });

  it('writers idle for longer than the contention window do not count', () => {
    const view = item(withTokens(0, T0), { 'other.0': T0 - CONTENDED_WITHIN_MS - 1 });
    expect(betsOnContendedView(view, [target], T0, T0 + 50, 'me')).toBe(false);
  });

  it('a refusal the view proves needs no read: not enough even with all refill since', () => {
    const view = item(withTokens(0, T0), others(3, T0));
    // 10 ms at 50/s refill half a token.
    expect(betsOnContendedView(view, [target], T0, T0 + 10, 'me')).toBe(false);
  });
});

describe('after a conflict, a caller steps back from a bucket others are emptying', () => {
  it('fewer tokens than a cost for each writer: step back', () => {
    const current = item(withTokens(2_500, T0), others(3, T0));
    expect(scarceUnderContention(current, [target], T0, 'me')).toBe(true);
  });

  it('tokens to spare for every writer (a burst on a full bucket): write again at once', () => {
    const current = item(withTokens(45_000, T0), others(7, T0));
    expect(scarceUnderContention(current, [target], T0, 'me')).toBe(false);
  });

  it('less than one cost: no step back, the next plan refuses with the exact wait', () => {
    const current = item(withTokens(600, T0), others(3, T0));
    expect(scarceUnderContention(current, [target], T0, 'me')).toBe(false);
  });

  it('no other writer lately: write again at once', () => {
    const current = item(withTokens(1_500, T0), { 'me.0': T0 });
    expect(scarceUnderContention(current, [target], T0, 'me')).toBe(false);
  });

  it('over any tokens and writers, steps back exactly when the bucket holds a cost but less than one per writer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        // Anywhere in the bucket, or within a milli of the boundary (a cost for each writer).
        fc.oneof(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: -1, max: 1 })),
        fc.boolean(),
        (count, offset, nearBoundary) => {
          const tokens = Math.max(0, nearBoundary ? 1_000 * (1 + count) + offset : offset);
          const current = item(withTokens(tokens, T0), { ...others(count, T0), 'me.0': T0 });
          const expected = count > 0 && tokens >= 1_000 && tokens < 1_000 * (1 + count);
          expect(scarceUnderContention(current, [target], T0, 'me')).toBe(expected);
        },
      ),
    );
  });
});
