import type { BucketDefinitionState, BucketState, LeaseState } from './model';

/**
 * Pure token-bucket maths on integer milli-units and milliseconds. Every function takes
 * `nowMs` and returns new state; nothing here reads a clock or a store.
 */

/** Concurrent waits are a polling hint: leases come back on release, not on a schedule. */
export const CONCURRENT_MAX_WAIT_MS = 1_000;
export const CONCURRENT_MIN_WAIT_MS = 50;

/** A full bucket, as created on first definition or first use of a key. */
export function fullBucket(definition: BucketDefinitionState, nowMs: number): BucketState {
  return {
    ...definition,
    tokensMilli: definition.capacityMilli,
    debtMilli: 0,
    lastRefillAtMs: nowMs,
    leases: {},
  };
}

/**
 * Credits the time elapsed since `lastRefillAtMs`, at exactly `capacityMilli` per `windowMs`.
 * `now = max(nowMs, lastRefillAtMs)`, so a client whose clock is behind never moves time
 * backwards. Once the elapsed time covers the room (`capacity − tokens + debt`), the bucket is
 * full and `lastRefillAtMs = now`: credited time is capped, and this check comes before any
 * product with the elapsed time, so a long idle period cannot overflow. Otherwise
 * `gained = floor(elapsedMs · capacityMilli / windowMs)` (rounded down) and `lastRefillAtMs`
 * advances only by `ceil(gained · windowMs / capacityMilli)` ≤ elapsed (the time actually
 * credited, rounded up), so repeated refills never over-credit and never starve on sub-unit
 * gains. Debt is repaid before tokens grow.
 */
export function refill(bucket: BucketState, nowMs: number): BucketState {
  const now = Math.max(nowMs, bucket.lastRefillAtMs);
  const { capacityMilli, windowMs } = bucket;
  if (windowMs <= 0) return bucket.lastRefillAtMs === now ? bucket : { ...bucket, lastRefillAtMs: now };
  const elapsedMs = now - bucket.lastRefillAtMs;
  const room = capacityMilli - bucket.tokensMilli + bucket.debtMilli;
  // elapsed ≥ ceil(room · W / C) ⇔ floor(elapsed · C / W) ≥ room, for integers: same as "gained ≥ room".
  if (room <= 0 || elapsedMs >= mulDivCeil(room, windowMs, capacityMilli)) {
    return {
      ...bucket,
      tokensMilli: Math.max(bucket.tokensMilli, capacityMilli),
      debtMilli: 0,
      lastRefillAtMs: now,
    };
  }
  // Here elapsedMs < room · W / C + 1, so every product below is < (room + 1) · max(C, W).
  const gained = mulDivFloor(elapsedMs, capacityMilli, windowMs);
  const creditedMs = mulDivCeil(gained, windowMs, capacityMilli);
  const repaid = Math.min(gained, bucket.debtMilli);
  return {
    ...bucket,
    debtMilli: bucket.debtMilli - repaid,
    tokensMilli: Math.min(capacityMilli, bucket.tokensMilli + gained - repaid),
    lastRefillAtMs: bucket.lastRefillAtMs + creditedMs,
  };
}

/**
 * `floor(a · b / c)` for integers a, b ≥ 0 and c > 0, exactly. While `a · b ≤ 2^53 − 1` the
 * product is exact in a double and the quotient is correctly rounded: its error is at most
 * `a·b / (c · 2^53) < 1/c`, while a non-integer `a·b/c` lies at least `1/c` from any integer,
 * so `floor` and `ceil` cannot cross or land on one. Larger products (e.g. a daily window of
 * a billion tokens: 10^12 milli × 8.64·10^7 ms) go through BigInt; a non-integer input (a
 * fractional clock) is computed in doubles, as exactly as it can be.
 */
export function mulDivFloor(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER || !Number.isInteger(a) || !Number.isInteger(b)) {
    return Math.floor(product / c);
  }
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** `ceil(a · b / c)`, exactly, on the terms of `mulDivFloor`. */
export function mulDivCeil(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER || !Number.isInteger(a) || !Number.isInteger(b)) {
    return Math.ceil(product / c);
  }
  const bc = BigInt(c);
  return Number((BigInt(a) * BigInt(b) + bc - 1n) / bc);
}

/** Units a caller can take now from a refilled bucket (never negative). */
export function availableMilli(bucket: BucketState): number {
  return bucket.debtMilli > 0 ? 0 : Math.max(0, bucket.tokensMilli);
}

export type TakeResult =
  | { readonly ok: true; readonly bucket: BucketState }
  | { readonly ok: false; readonly waitMs: number };

/**
 * Takes `costMilli` from a bucket already refilled to `nowMs`, adding `lease` for a
 * concurrent bucket; or says how long to wait.
 */
export function take(
  bucket: BucketState,
  costMilli: number,
  nowMs: number,
  lease?: { readonly id: string; readonly state: LeaseState },
): TakeResult {
  if (availableMilli(bucket) >= costMilli) {
    const leases =
      bucket.limitType === 'concurrent' && lease
        ? { ...bucket.leases, [lease.id]: lease.state }
        : bucket.leases;
    return { ok: true, bucket: { ...bucket, tokensMilli: bucket.tokensMilli - costMilli, leases } };
  }
  return { ok: false, waitMs: waitMs(bucket, costMilli, nowMs) };
}

/**
 * Time buckets: the time until refill covers the missing amount plus the debt,
 * `ceil(missing · windowMs / capacityMilli)` (exact, rounded up to the ms), counted from
 * `lastRefillAtMs` (time already elapsed but not yet credited counts).
 * Concurrent: until the earliest lease expiry, at most 1 s (a release may come sooner) and at
 * least 50 ms (no busy loop).
 */
export function waitMs(bucket: BucketState, costMilli: number, nowMs: number): number {
  if (bucket.limitType === 'concurrent') {
    const expiries = Object.values(bucket.leases).map((l) => l.expiresAtMs - nowMs);
    const untilExpiry = expiries.length ? Math.min(...expiries) : CONCURRENT_MAX_WAIT_MS;
    return Math.max(CONCURRENT_MIN_WAIT_MS, Math.min(untilExpiry, CONCURRENT_MAX_WAIT_MS));
  }
  const missing = costMilli - availableMilli(bucket) + bucket.debtMilli;
  if (missing <= 0) return 0;
  const neededMs = mulDivCeil(missing, bucket.windowMs, bucket.capacityMilli);
  return Math.max(0, bucket.lastRefillAtMs + neededMs - nowMs);
}

/** Refunds an unused estimate (never above capacity) or records an overrun as debt. */
export function settle(bucket: BucketState, estimateMilli: number, actualMilli: number): BucketState {
  const refund = estimateMilli - actualMilli;
  if (refund >= 0) {
    const repaid = Math.min(refund, bucket.debtMilli);
    const tokensMilli = Math.min(bucket.capacityMilli, bucket.tokensMilli + refund - repaid);
    return { ...bucket, debtMilli: bucket.debtMilli - repaid, tokensMilli };
  }
  const overrun = -refund;
  const fromTokens = Math.min(overrun, Math.max(0, bucket.tokensMilli));
  return {
    ...bucket,
    tokensMilli: bucket.tokensMilli - fromTokens,
    debtMilli: bucket.debtMilli + overrun - fromTokens,
  };
}

/** Scales tokens by `factor` (0 < factor ≤ 1), rounded down, never below 0. */
export function penalize(bucket: BucketState, factor: number): BucketState {
  return { ...bucket, tokensMilli: Math.max(0, Math.floor(bucket.tokensMilli * factor)) };
}

/** Lowers tokens to at most what the vendor says remains; never raises them. */
export function resync(bucket: BucketState, remainingMilli: number): BucketState {
  return bucket.tokensMilli <= remainingMilli
    ? bucket
    : { ...bucket, tokensMilli: Math.max(0, remainingMilli) };
}

/** Capacity held by live leases. */
export function leasedMilli(bucket: BucketState): number {
  return Object.values(bucket.leases).reduce((sum, lease) => sum + lease.costMilli, 0);
}

/**
 * Applies a new definition and keeps live state: time buckets keep their tokens, clamped to
 * a lowered capacity; concurrent buckets keep their leases and take `tokens = capacity −
 * leased` (may be negative while more is held than the new capacity), so conservation holds.
 */
export function redefine(bucket: BucketState, definition: BucketDefinitionState): BucketState {
  const next = { ...bucket, ...definition };
  if (definition.limitType !== bucket.limitType)
    return { ...next, tokensMilli: definition.capacityMilli, leases: {}, debtMilli: 0 };
  if (definition.limitType === 'concurrent')
    return { ...next, tokensMilli: definition.capacityMilli - leasedMilli(bucket) };
  return { ...next, tokensMilli: Math.min(bucket.tokensMilli, definition.capacityMilli) };
}
