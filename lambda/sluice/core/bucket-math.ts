import { holdsLeases } from './limit-types';
import {
  type BucketDefinitionState,
  type BucketState,
  FULL_RATE_PERMILLE,
  type LeaseState,
  MAX_HOLD_SECONDS,
  MILLI,
} from './model';
import { mulDivCeil, mulDivFloor } from './mul-div';
import { countGrant, cutRate, rateScaleAt, UNSCALED } from './rate-scale';

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
    ...UNSCALED,
  };
}

/**
 * The refill rate in force from `lastRefillAtMs` on, as milli-units `perMilli` per `windowMs`
 * ms: `capacityMilli · scale / 1000` per window, kept as the exact fraction
 * `(capacityMilli · scale) / (windowMs · 1000)`, or `capacityMilli / windowMs` unscaled (the
 * very same quotients, without the larger products).
 *
 * An interval is credited at the scale at its start, `lastRefillAtMs`. Between penalties the
 * scale only rises, so that is the lower of the scales at the interval's two ends, and
 * penalize refills (settles the interval at the old scale) before it lowers the scale: no
 * interval is ever credited above the scale in force at any point of it.
 */
export function refillRate(bucket: BucketState): { readonly milli: number; readonly perMs: number } {
  const scale = rateScaleAt(bucket, bucket.lastRefillAtMs);
  return scale >= FULL_RATE_PERMILLE
    ? { milli: bucket.capacityMilli, perMs: bucket.windowMs }
    : { milli: bucket.capacityMilli * scale, perMs: bucket.windowMs * FULL_RATE_PERMILLE };
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
  // A time bucket fills up to what its slices leave (docs/design.md, "Leases for hot buckets").
  const capacityMilli = storedRoomMilli(bucket);
  if (bucket.windowMs <= 0)
    return bucket.lastRefillAtMs === now ? bucket : { ...bucket, lastRefillAtMs: now };
  // The rate is milli per perMs ms: capacityMilli per windowMs, times the rate scale (refillRate).
  const { milli, perMs } = refillRate(bucket);
  const elapsedMs = now - bucket.lastRefillAtMs;
  const room = capacityMilli - bucket.tokensMilli + bucket.debtMilli;
  // elapsed ≥ ceil(room · W / C) ⇔ floor(elapsed · C / W) ≥ room, for integers: same as "gained ≥ room".
  if (room <= 0 || elapsedMs >= mulDivCeil(room, perMs, milli)) {
    return {
      ...bucket,
      tokensMilli: Math.max(bucket.tokensMilli, capacityMilli),
      debtMilli: 0,
      lastRefillAtMs: now,
    };
  }
  // Here elapsedMs < room · W / C + 1, so every product below is < (room + 1) · max(C, W).
  const gained = mulDivFloor(elapsedMs, milli, perMs);
  const creditedMs = mulDivCeil(gained, perMs, milli);
  const repaid = Math.min(gained, bucket.debtMilli);
  return {
    ...bucket,
    debtMilli: bucket.debtMilli - repaid,
    tokensMilli: Math.min(capacityMilli, bucket.tokensMilli + gained - repaid),
    lastRefillAtMs: bucket.lastRefillAtMs + creditedMs,
  };
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
 * concurrent bucket and counting the grant for the rate scale of a time bucket; or says how
 * long to wait.
 */
export function take(
  bucket: BucketState,
  costMilli: number,
  nowMs: number,
  lease?: { readonly id: string; readonly state: LeaseState },
): TakeResult {
  const heldMs = holdLeftMs(bucket, nowMs);
  if (heldMs > 0) return { ok: false, waitMs: Math.max(heldMs, waitMs(bucket, costMilli, nowMs)) };
  if (availableMilli(bucket) >= costMilli) {
    if (holdsLeases(bucket.limitType)) {
      const leases = lease ? { ...bucket.leases, [lease.id]: lease.state } : bucket.leases;
      return { ok: true, bucket: { ...bucket, tokensMilli: bucket.tokensMilli - costMilli, leases } };
    }
    const grantedSinceCutMilli = countGrant(bucket, bucket.capacityMilli, costMilli);
    // A grant from a full bucket starts a burst (the bucket's whole capacity at once).
    const full = bucket.tokensMilli >= bucket.capacityMilli ? { fullAtMs: nowMs } : {};
    return {
      ok: true,
      bucket: { ...bucket, tokensMilli: bucket.tokensMilli - costMilli, grantedSinceCutMilli, ...full },
    };
  }
  return { ok: false, waitMs: waitMs(bucket, costMilli, nowMs) };
}

/** The time left of the bucket's `Retry-After` hold at `nowMs`, 0 when none is in force. */
export function holdLeftMs(bucket: BucketState, nowMs: number): number {
  return Math.max(0, (bucket.holdUntilMs ?? 0) - nowMs);
}

/**
 * Time buckets: the time until refill covers the missing amount plus the debt,
 * `ceil(missing · windowMs / capacityMilli)` (exact, rounded up to the ms) at the configured
 * rate, longer by `1000 / scale` while a penalty lowers the rate (`refillRate`), counted from
 * `lastRefillAtMs` (time already elapsed but not yet credited counts).
 * Concurrent: until the earliest expiry still ahead, at most 1 s (a release may come sooner)
 * and at least 50 ms (no busy loop); 1 s when every lease has expired (reconcile returns those).
 */
export function waitMs(bucket: BucketState, costMilli: number, nowMs: number): number {
  if (holdsLeases(bucket.limitType)) {
    // Leases already expired come back only when reconcile runs, not at a known instant.
    const expiries = Object.values(bucket.leases)
      .map((l) => l.expiresAtMs - nowMs)
      .filter((ms) => ms > 0);
    const untilExpiry = expiries.length ? Math.min(...expiries) : CONCURRENT_MAX_WAIT_MS;
    return Math.max(CONCURRENT_MIN_WAIT_MS, Math.min(untilExpiry, CONCURRENT_MAX_WAIT_MS));
  }
  const missing = costMilli - availableMilli(bucket) + bucket.debtMilli;
  if (missing <= 0) return 0;
  const { milli, perMs } = refillRate(bucket);
  const neededMs = mulDivCeil(missing, perMs, milli);
  return Math.max(0, bucket.lastRefillAtMs + neededMs - nowMs);
}

/**
 * The most refill can have credited in `elapsedMs`: at the configured rate (the rate scale never
 * exceeds it), rounded up, and never more than the capacity.
 */
export function refilledAtMostMilli(bucket: BucketState, elapsedMs: number): number {
  if (elapsedMs <= 0 || bucket.windowMs <= 0) return 0;
  if (elapsedMs >= bucket.windowMs) return bucket.capacityMilli;
  return mulDivCeil(elapsedMs, bucket.capacityMilli, bucket.windowMs);
}

/**
 * Records the actual usage of a grant of `estimateMilli` made `elapsedMs` ago, on a bucket
 * refilled to now (docs/design.md, "The late-refund rule").
 *
 * A refund credits at most `max(0, estimate − refilledAtMost(elapsed))`: what refill has not
 * already given back since the grant. Refill cannot have filled the bucket before it gave back
 * `actual` (the take left at most `capacity − estimate`), so up to then every unused unit is
 * still missing; afterwards a full bucket may have absorbed them, one per unit refilled. Crediting
 * no more keeps the bucket at or below one that had taken only `actual` at the grant: invariant 1 (docs/design.md, "Invariants").
 * Tokens never pass capacity.
 *
 * An overrun is taken from tokens, the rest recorded as debt, the debt never above capacity: the
 * whole overrun is still owed unless the bucket reached capacity since the grant, which the
 * stored state cannot tell, so it is not shrunk by elapsed time.
 */
export function settle(
  bucket: BucketState,
  estimateMilli: number,
  actualMilli: number,
  elapsedMs: number,
): BucketState {
  const refund = estimateMilli - actualMilli;
  if (refund >= 0) {
    const credit = Math.max(0, Math.min(refund, estimateMilli - refilledAtMostMilli(bucket, elapsedMs)));
    const repaid = Math.min(credit, bucket.debtMilli);
    const tokensMilli = Math.min(storedRoomMilli(bucket), bucket.tokensMilli + credit - repaid);
    return { ...bucket, debtMilli: bucket.debtMilli - repaid, tokensMilli };
  }
  const overrun = -refund;
  const fromTokens = Math.min(overrun, Math.max(0, bucket.tokensMilli));
  return {
    ...bucket,
    tokensMilli: bucket.tokensMilli - fromTokens,
    debtMilli: Math.min(bucket.capacityMilli, bucket.debtMilli + overrun - fromTokens),
  };
}

/**
 * On a bucket already refilled to `nowMs` (so the elapsed interval is settled at the old
 * scale): cuts the refill rate (`cutRate` in rate-scale.ts, told whether the refusal came in a
 * burst and the limit the vendor states, `statedPermille`, in permille of the configured rate)
 * from `nowMs` on, never moved back before a later stored instant, and holds the bucket for
 * `holdMs` (the vendor's Retry-After or reset, `withHold`).
 *
 * Tokens are scaled by `factor` (0 < factor ≤ 1), rounded down. With a hold, the vendor's count
 * restarts when the hold ends, and so does the bucket's **phase**: it comes out of the hold with
 * at most one call's worth (`costPerCall`), not with a burst saved up while it waited (the burst
 * a window anchored at its first request refuses). What tokens and the refill during the hold (at
 * the new scale) would hold beyond that is taken from the tokens, then recorded as debt (at most
 * the capacity): only ever less than without the rule.
 */
export function penalize(
  bucket: BucketState,
  factor: number,
  nowMs: number,
  holdMs = 0,
  statedPermille?: number,
): BucketState {
  const tokensMilli = Math.max(0, Math.floor(bucket.tokensMilli * factor));
  const held = withHold(bucket, nowMs, holdMs);
  if (bucket.windowMs <= 0) return { ...held, tokensMilli };
  const atMs = Math.max(nowMs, bucket.lastRefillAtMs, bucket.rateScaleAtMs);
  const burst = inBurst(bucket, atMs);
  const context = statedPermille === undefined ? { inBurst: burst } : { inBurst: burst, statedPermille };
  const scaled = { ...held, tokensMilli, ...cutRate(bucket, bucket.capacityMilli, factor, atMs, context) };
  if (!(holdMs > 0)) return scaled;
  return { ...scaled, ...phasedToHoldEnd(scaled, atMs) };
}

/** Tokens and debt so that at the hold's end the bucket holds at most one call (see `penalize`). */
function phasedToHoldEnd(bucket: BucketState, atMs: number): Pick<BucketState, 'tokensMilli' | 'debtMilli'> {
  const heldForMs = Math.max(0, (bucket.holdUntilMs ?? 0) - atMs);
  const { milli, perMs } = refillRate({ ...bucket, lastRefillAtMs: atMs });
  const refillMilli = mulDivFloor(heldForMs, milli, perMs);
  const oneCallMilli = Math.min(bucket.capacityMilli, bucket.costPerCall * MILLI);
  const excess = bucket.tokensMilli - bucket.debtMilli + refillMilli - oneCallMilli;
  if (excess <= 0) return { tokensMilli: bucket.tokensMilli, debtMilli: bucket.debtMilli };
  const fromTokens = Math.min(excess, bucket.tokensMilli);
  return {
    tokensMilli: bucket.tokensMilli - fromTokens,
    debtMilli: Math.min(bucket.capacityMilli, bucket.debtMilli + excess - fromTokens),
  };
}

/**
 * Whether a refusal at `nowMs` comes within one window of a grant that found the bucket full:
 * the vendor may still be counting that burst (the initial or idle-accumulated capacity), so the
 * refusal may say the burst was too large for it, not that the rate is too high (`cutRate`
 * learns no ceiling from the first such refusal; docs/design.md, "Refusals of a burst"). Never
 * on a bucket holding less than two calls (`vendorLimit`'s windowed buckets hold one): it grants
 * no burst, and each grant it paces finds it full, so every refusal would look like a burst's and
 * nothing would ever be learnt from them.
 */
export function inBurst(bucket: BucketState, nowMs: number): boolean {
  // A bucket of less than two calls has no burst: paced at its rate, every grant finds it full.
  if (bucket.capacityMilli < 2 * Math.min(bucket.capacityMilli, bucket.costPerCall * MILLI)) return false;
  return bucket.fullAtMs !== undefined && nowMs - bucket.fullAtMs < bucket.windowMs;
}

/**
 * The bucket held until `nowMs + holdMs` (whole ms, rounded up), capped at `MAX_HOLD_SECONDS`;
 * a hold already stored that ends later is kept: a hold is never shortened by another worker's
 * shorter `Retry-After`.
 */
export function withHold(bucket: BucketState, nowMs: number, holdMs: number): BucketState {
  if (!(holdMs > 0)) return bucket;
  const untilMs = nowMs + Math.ceil(Math.min(holdMs, MAX_HOLD_SECONDS * 1000));
  return untilMs > (bucket.holdUntilMs ?? 0) ? { ...bucket, holdUntilMs: untilMs } : bucket;
}

/**
 * Lowers tokens to at most what the vendor says remains, plus the bucket's progress toward its
 * next unit; never raises them. The vendor counts whole units: "0 remaining" says no call may go
 * now, not that the refill since the last grant never happened. Erasing that part (a resync
 * answered 60 ms after a grant, on a bucket of one call) pushed every next grant back by the
 * answer's latency: at 50 ms a call, 3 per 1.05 s ran at 2.4 per s.
 */
export function resync(bucket: BucketState, remainingMilli: number): BucketState {
  const towardNextMilli = bucket.tokensMilli % MILLI;
  const lowered = Math.max(0, Math.floor(remainingMilli / MILLI) * MILLI) + towardNextMilli;
  return bucket.tokensMilli <= lowered ? bucket : { ...bucket, tokensMilli: lowered };
}

/**
 * What a bucket's stored tokens may reach: the capacity, less the slices processes hold on a
 * time bucket (a concurrent bucket's leases are already out of its tokens).
 */
export function storedRoomMilli(bucket: BucketState): number {
  return holdsLeases(bucket.limitType) ? bucket.capacityMilli : bucket.capacityMilli - leasedMilli(bucket);
}

/** Capacity held by live leases. */
export function leasedMilli(bucket: BucketState): number {
  return Object.values(bucket.leases).reduce((sum, lease) => sum + lease.costMilli, 0);
}

/**
 * Applies a new definition and keeps live state, the rate scale included: time buckets keep
 * their tokens, clamped to a lowered capacity; concurrent buckets keep their leases and take `tokens = capacity −
 * leased` (may be negative while more is held than the new capacity), so conservation holds.
 */
export function redefine(bucket: BucketState, definition: BucketDefinitionState): BucketState {
  // Shares follow the definition: removed from it, the bucket has none (nor their reserves).
  const { slicing: _slicing, sharesPermille: _shares, shareUse: _use, ...live } = bucket;
  const kept =
    definition.sharesPermille === undefined || bucket.shareUse === undefined
      ? {}
      : { shareUse: bucket.shareUse };
  const next = { ...live, ...kept, ...definition };
  if (definition.limitType !== bucket.limitType) {
    // Between two time types the slices held (leases for hot buckets) stay, out of the tokens:
    // their holders grant from them until they expire.
    const slices = !holdsLeases(bucket.limitType) && !holdsLeases(definition.limitType) ? bucket.leases : {};
    return {
      ...next,
      tokensMilli: Math.max(0, definition.capacityMilli - leasedMilli({ ...bucket, leases: slices })),
      leases: slices,
      debtMilli: 0,
      ...UNSCALED,
      rateScaleAtMs: bucket.rateScaleAtMs,
    };
  }
  if (holdsLeases(definition.limitType))
    return { ...next, tokensMilli: definition.capacityMilli - leasedMilli(bucket) };
  // Slices held (leases for hot buckets) stay out of the stored tokens under a lowered capacity too.
  return {
    ...next,
    tokensMilli: Math.max(0, Math.min(bucket.tokensMilli, definition.capacityMilli - leasedMilli(bucket))),
  };
}
