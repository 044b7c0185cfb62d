/**
 * The public vocabulary of the Sluice SDK (docs/design.md, "Vocabulary"). Implementation lives beside this
 * file; callers import from `lambda/sluice` (index.ts).
 */

import type { LimitType } from './limit-types';

export type { LimitType } from './limit-types';

/**
 * A dimension is `{vendor}#{metric}` (`openai#rpm`) or, for a keyed dimension,
 * `{vendor}#{metric}#{key}` (`waitwhile#location-writes#loc-42`). A keyed definition is
 * written with the key `*` and applies to every key; each key's bucket is created on first use.
 */
export type Dimension = string;

/** A bucket definition: what the configuration and the CDK seeding upsert. */
export interface BucketDefinition {
  readonly dimension: Dimension;
  readonly limitType: LimitType;
  /** Burst size, in units (requests, tokens or in-flight calls). Positive integer. */
  readonly capacity: number;
  /** Window over which `capacity` refills (refill_rate = capacity / windowSeconds). Omitted for `concurrent`. */
  readonly windowSeconds?: number;
  /** Units one call takes when the caller names the dimension without a cost. @default 1 */
  readonly costPerCall?: number;
  /**
   * Leases for a hot time bucket: each process takes a slice of up to `maxShare` of the capacity
   * (0 < maxShare ≤ 1) with one write, valid `seconds` (1 to 300), and grants from it without a
   * write; what it did not use goes back on its next slice or `returnSlices()`, and an expired
   * slice is dropped by the next writer or the reconciler (docs/design.md, "Leases for hot buckets").
   */
  readonly lease?: { readonly maxShare: number; readonly seconds: number };
  /**
   * Reserved shares of this bucket by product (`{ checkout: 0.75, batch: 0.25 }`): each in
   * (0, 1], to the permille, summing to at most 1; the rest is common. While a product has
   * demand its share of the refill is kept for it; a product without demand lends its share to
   * the others (docs/design.md, "Fair shares"). A product names itself with
   * `acquire(..., { product })`. Time buckets only. @default - no shares: first come, first served
   */
  readonly shares?: Readonly<Record<string, number>>;
}

/** Dimensions to acquire: one name (its cost_per_call), several names, or names with costs. */
export type AcquireRequest = Dimension | readonly Dimension[] | Readonly<Record<Dimension, number>>;

export interface Lease {
  readonly dimension: Dimension;
  readonly leaseId: string;
  readonly cost: number;
  readonly expiresAtMs: number;
}

export interface Granted {
  readonly outcome: 'Granted';
  /** Cost granted per dimension. */
  readonly costs: Readonly<Record<Dimension, number>>;
  /**
   * The granted dimensions that count tokens (limit type `tokens`, as the buckets define them):
   * the ones to `settle` with the actual usage, and to resynchronise from a vendor's token counts.
   */
  readonly tokenDimensions: readonly Dimension[];
  /** Leases held on `concurrent` dimensions (time buckets need none). */
  readonly leases: readonly Lease[];
  readonly grantedAtMs: number;
  /**
   * On buckets with shares (`BucketDefinition.shares`), what the grant took from the product's
   * reserve and from the common part, in units, by dimension (docs/design.md, "Fair shares").
   * Absent when no granted bucket has shares.
   */
  readonly shares?: Readonly<Record<Dimension, { readonly reserved: number; readonly common: number }>>;
  /** Returns concurrent capacity. Idempotent: the second call does nothing. */
  release(): Promise<void>;
  /**
   * For `tokens` dimensions: records the actual usage once the vendor answered. Unused
   * estimate is refunded (never above capacity); an overrun becomes debt that refill repays.
   */
  settle(actual: Readonly<Record<Dimension, number>>): Promise<void>;
}

export interface RetryIn {
  readonly outcome: 'RetryIn';
  /** Computed wait: `(cost − available) / refill_rate`, the largest over the dimensions. */
  readonly waitSeconds: number;
  /** The dimension that set the wait. */
  readonly dimension: Dimension;
}

export type AcquireResult = Granted | RetryIn;

export interface SlotOptions {
  /** @default SLUICE_DEFAULT_SLOT_TIMEOUT (30 s) */
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
}

/** A held slot; `await using slot = await sluice.slot(...)` releases it on scope exit. */
export interface SlotHandle extends AsyncDisposable {
  readonly grant: Granted;
  release(): Promise<void>;
}

/** Factor presets for `penalize`: a first 429, repeats in quick succession, a long Retry-After. */
export const PenaltyFactor = {
  /** The first 429. */
  firstRateLimit: 0.8,
  /** Another 429 in quick succession. */
  repeatedRateLimit: 0.5,
  /** A Retry-After with a long delay. */
  longRetryAfter: 0.3,
} as const;

export interface PenalizeOptions {
  /**
   * The vendor's `Retry-After`, in seconds: the bucket is held until then, for every worker and
   * product (each `acquire` answers `RetryIn` with the time left). Stored in the bucket; a
   * longer hold already stored is kept; capped at `MAX_HOLD_SECONDS` (900 s). @default 0 (no hold)
   */
  readonly holdSeconds?: number;
  /**
   * The limit the vendor states in its answers (`RateLimit-Policy`, `x-ratelimit-limit-*`, ...),
   * in units per second. While the bucket's rate is at or below it, the refusal is a timing
   * signal: the rate is not cut and no ceiling is learnt (the hold and the bucket's phase handle
   * it). Below the configured rate, it becomes the bucket's ceiling. @default none
   */
  readonly statedLimitPerSecond?: number;
}

export interface PenaltyResult {
  readonly dimension: Dimension;
  readonly factor: number;
  readonly tokensBefore: number;
  readonly tokensAfter: number;
  /** Refill-rate scale (0..1 of the configured rate) just before and after the penalty. */
  readonly rateScaleBefore?: number;
  readonly rateScaleAfter?: number;
  /** The scale regained quickly after this cut (0..1); slow probing above it. */
  readonly rateCeilingAfter?: number;
  /** Epoch ms until which the bucket is held (a `Retry-After`), when a hold is in the bucket. */
  readonly holdUntilMs?: number;
  /**
   * How the vendor's stated limit, when given, read the refusal: `timing` (the bucket was at or
   * below it: rate kept), or `ceiling` (the stated limit is below the bucket's rate: it is the
   * ceiling now).
   */
  readonly statedLimit?: 'timing' | 'ceiling';
}

export interface ReconcileReport {
  /** Leases seen on concurrent buckets. */
  readonly totalLeases: number;
  /** Expired leases whose capacity this run gave back (each exactly once). */
  readonly restored: number;
  /** Stale records removed (idempotency/GC). */
  readonly deleted: number;
  /** Items that failed; the sweep went on past them. */
  readonly failedItems: number;
  /** Present when the sweep stopped at its `stopAtMs` before its last page: the next run starts over. */
  readonly unfinished?: true;
}

export interface ReconcileOptions {
  /**
   * The instant (on the client's clock) after which no further page is started, so a run ends
   * within its Lambda's timeout with its counts reported; the page in hand is finished.
   * @default no limit
   */
  readonly stopAtMs?: number;
}

/** A read-only view of one bucket, for progress output and tests. */
export interface BucketSnapshot {
  readonly dimension: Dimension;
  readonly limitType: LimitType;
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Available units now (refill applied, debt subtracted), may be fractional. */
  readonly tokens: number;
  readonly debt: number;
  readonly leases: number;
  /**
   * Fraction (0..1) of `refillPerSecond` currently in force: below 1 after a penalize, back to 1
   * by regaining the learnt ceiling and probing above it. Always set by `snapshot()`; optional only so older literals still type.
   */
  readonly rateScale?: number;
}
