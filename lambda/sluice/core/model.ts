import type { LimitType } from './limit-types';

/**
 * The stored state, in integers only: milli-units and milliseconds (docs/design.md, "Item layout"). One item per
 * vendor holds every unkeyed dimension of that vendor in `buckets`, and the definitions of
 * keyed dimensions in `templates`; each key of a keyed dimension is an item of its own.
 */

export interface LeaseState {
  readonly costMilli: number;
  /** Reconcile may return the lease's capacity only after this instant. */
  readonly expiresAtMs: number;
}

/** What a definition fixes; the rest of a bucket is live state. */
export interface BucketDefinitionState {
  readonly limitType: LimitType;
  readonly capacityMilli: number;
  /**
   * The window over which `capacityMilli` refills, in whole milliseconds (the defined window,
   * rounded up to the ms); 0 for concurrent. Refill is `capacityMilli` per `windowMs`, computed
   * exactly from these two integers (no stored, rounded rate).
   */
  readonly windowMs: number;
  readonly costPerCall: number;
  /** Leases for a hot time bucket (docs/design.md, "Leases for hot buckets"); absent: none. */
  readonly slicing?: SlicingState;
  /**
   * Reserved shares of the refill by product, in permille (each 1..1000, summing to at most
   * 1000; the rest is common): absent on a bucket without shares, and on concurrent buckets
   * (docs/design.md, "Fair shares").
   */
  readonly sharesPermille?: Readonly<Record<string, number>>;
}

/**
 * A time bucket whose callers take slices: a process takes up to `sharePermille` of the capacity
 * in one write, held in the bucket's `leases` under the slice's id until `expiresAtMs`, and
 * grants from it locally. The stored tokens plus every slice held never exceed the capacity.
 */
export interface SlicingState {
  readonly sharePermille: number;
  readonly sliceMs: number;
}

/**
 * A product's part of a shared bucket while it has demand (docs/design.md, "Fair shares"): the
 * tokens reserved for it out of the bucket's own tokens (never added to them), until when it
 * counts as having demand, and the cost it last asked for (its reserve may hold at least that).
 * A product without an entry has no reserve: its share of the refill is common, lent to all.
 */
export interface ShareUse {
  readonly reserveMilli: number;
  readonly activeUntilMs: number;
  readonly needMilli: number;
}

export interface BucketState extends BucketDefinitionState {
  readonly tokensMilli: number;
  /** Token overrun recorded by settle; refill repays it before tokens grow. Non-zero only when tokens are 0. */
  readonly debtMilli: number;
  /** Refill is credited up to this instant; it only moves forward. */
  readonly lastRefillAtMs: number;
  /**
   * Held slots of a concurrent bucket, by lease id; for a time bucket, the slices processes hold
   * (`slicing`), each its whole size until returned or dropped after expiry.
   */
  readonly leases: Readonly<Record<string, LeaseState>>;
  /**
   * Refill-rate scale in permille (1000 = as configured) as set by the last penalize, at
   * `rateScaleAtMs`; it regains `rateCeilingPermille` from then on, and probes above it
   * (`rateScaleAt` in rate-scale.ts). Between `RATE_SCALE_MIN_PERMILLE` and 1000. Concurrent
   * buckets keep 1000.
   */
  readonly rateScalePermille: number;
  /** When `rateScalePermille` was last set by a penalize (0: never). */
  readonly rateScaleAtMs: number;
  /** The scale learnt as safe from the last refusals (1000 = none learnt). */
  readonly rateCeilingPermille: number;
  /** Units granted since the last cut, counted up to the capacity; time buckets only. */
  readonly grantedSinceCutMilli: number;
  /** How long the scale stays at the ceiling before probing above it, doubled by each refused probe; set by a cut. */
  readonly rateProbeDelayMs?: number;
  /**
   * The vendor's `Retry-After`, shared: no grant of this bucket before this instant (absent or
   * 0: no hold). Set by a penalize that carries a hold (docs/design.md, "The Retry-After hold"),
   * never lowered by one; every acquire meanwhile answers `RetryIn` with the time left.
   */
  readonly holdUntilMs?: number;
  /**
   * The last instant a grant found the bucket full (its whole capacity stored, at creation or
   * after idling): a refusal within one window of it may be the vendor counting that burst, not a
   * rate too high (docs/design.md, "Refusals of a burst"). Absent: never seen full by a grant.
   */
  readonly fullAtMs?: number;
  /** The products of a shared bucket that have demand now, by name; pruned once idle. */
  readonly shareUse?: Readonly<Record<string, ShareUse>>;
}

export interface BucketItem {
  readonly pk: string;
  /** Bumped by every write, so a write conditioned on the version seen detects any other. */
  readonly version: number;
  readonly buckets: Readonly<Record<string, BucketState>>;
  readonly templates: Readonly<Record<string, BucketDefinitionState>>;
  /**
   * The last operation each writer lane applied to this item (`WriteOp.seq` by `WriteOp.writer`):
   * how a repeat of an applied write is recognised (docs/design.md, "Writes that are safe to
   * repeat"). Reconcile forgets lanes idle for `WRITER_FORGET_MS`.
   */
  readonly writers: Readonly<Record<string, number>>;
}

/**
 * The identity of one SDK operation in every write it sends: a writer lane (a client id and a
 * lane number; a lane runs one operation at a time) and the lane's sequence number, strictly
 * increasing (`max(clock, last + 1)`, so it also says when the lane last wrote). Every attempt
 * of one operation carries the same op; an item that already holds it has applied it.
 */
export interface WriteOp {
  readonly writer: string;
  readonly seq: number;
}

/**
 * A lane idle this long is forgotten by reconcile. A lost answer is resent by the AWS SDK within
 * its bounded retries (seconds), or by the caller soon after: never this late.
 */
export const WRITER_FORGET_MS = 15 * 60_000;

export const MILLI = 1000;
/** The longest `Retry-After` hold a penalize stores: 15 minutes; a longer one is cut to this. */
export const MAX_HOLD_SECONDS = 900;
/** A rate scale of 1000 permille: the configured refill rate. */
export const FULL_RATE_PERMILLE = 1000;
