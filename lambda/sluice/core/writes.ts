import type { BucketDefinitionState, BucketItem, BucketState, LeaseState, WriteOp } from './model';

/**
 * What a write to the bucket table means, as pure functions of the item: both stores apply
 * these (the memory store to its map, the DynamoDB store as expressions), and the operations
 * use them to keep their cache as the store left it.
 */

/**
 * Replace whole bucket/template entries of one item, if its version is still `expectedVersion`,
 * and record `op` in the item's writers. A write refused on the version whose item already
 * holds `op` was applied before (its answer was lost): it answers `ok`, as the first did.
 */
export interface BucketWrite {
  readonly pk: string;
  readonly expectedVersion: number;
  readonly buckets?: Readonly<Record<string, BucketState>>;
  readonly templates?: Readonly<Record<string, BucketDefinitionState>>;
  /** Absent only for reconcile's forgetting of idle writers, which is the same applied twice. */
  readonly op?: WriteOp;
  /** Writer lanes to remove from the item (reconcile). */
  readonly forgetWriters?: readonly string[];
}

/**
 * Takes units from the **stored** tokens of buckets of one item, with no version condition, in
 * the cases where that is exactly what refilling first and then taking would leave:
 * - `leases`: a concurrent bucket, which has no refill;
 * - `full`: the bucket stores its whole capacity, so refilling to `nowMs` only moves
 *   `last_refill_at_ms` to `nowMs` (never back), which the take does too;
 * - `unfilled`: the bucket stores at most `tokensAtMostMilli` and was refilled at or after
 *   `lastRefillAtLeastMs`, chosen so that even at the configured rate refill cannot have reached
 *   capacity by now: crediting that time later, on the lower balance, adds the same.
 * Each also needs `tokens ≥ cost` and no debt, and a time bucket's `full` and `unfilled` need
 * it to hold no slice (`slicing`): a slice lowers the level refill reaches, which the guards'
 * arithmetic does not see. Takes from stored tokens commute, so callers
 * arriving together do not conflict; the version is bumped, so versioned writes see them.
 */
export type StoredTakeGuard =
  | { readonly kind: 'leases' }
  | { readonly kind: 'full'; readonly capacityMilli: number; readonly nowMs: number }
  | {
      readonly kind: 'unfilled';
      readonly capacityMilli: number;
      readonly windowMs: number;
      readonly tokensAtMostMilli: number;
      readonly lastRefillAtLeastMs: number;
    };

/**
 * Applied only if the item does not hold `op` yet (a condition only the first application
 * meets); a take refused because it holds `op` was applied before and answers `ok` with the item.
 */
export interface StoredTake {
  readonly pk: string;
  readonly op: WriteOp;
  /**
   * The instant of the take: every bucket taken from must hold no `Retry-After` hold past it, so
   * a hold set after the caller's view still refuses the take (docs/design.md, "The Retry-After hold").
   */
  readonly nowMs: number;
  readonly takes: readonly {
    readonly metric: string;
    /**
     * The definition the take was computed from: the bucket must still have it (limit type,
     * capacity, window, cost per call), so a cache older than an upsert meets a conflict and
     * the fresh item, never a take through another type's guard.
     */
    readonly definition: BucketDefinitionState;
    readonly costMilli: number;
    readonly guard: StoredTakeGuard;
    /** A concurrent bucket's lease, added with the take. */
    readonly lease?: { readonly id: string; readonly state: LeaseState };
    /** Adds the cost to the bucket's grant count (a bucket whose rate was cut). */
    readonly countGrant: boolean;
  }[];
}

export function appliedBefore(item: BucketItem | undefined, op: WriteOp | undefined): boolean {
  return op !== undefined && item !== undefined && item.writers[op.writer] === op.seq;
}

/** Whether every item of a refused transaction already holds its write's op: the transaction was applied. */
export function transactionAppliedBefore(
  writes: readonly BucketWrite[],
  current: ReadonlyMap<string, BucketItem | undefined>,
): boolean {
  return writes.every((w) => appliedBefore(current.get(w.pk), w.op));
}

/** The item a successful `write` leaves behind (what both stores do, for the caller's cache). */
export function applyWrite(item: BucketItem, write: BucketWrite): BucketItem {
  const writers = { ...item.writers };
  for (const writer of write.forgetWriters ?? []) delete writers[writer];
  if (write.op) writers[write.op.writer] = write.op.seq;
  return {
    ...item,
    version: item.version + 1,
    buckets: { ...item.buckets, ...write.buckets },
    templates: { ...item.templates, ...write.templates },
    writers,
  };
}

/** The item a successful `takeStored` leaves behind, or undefined where a condition fails. */
export function applyStoredTake(item: BucketItem | undefined, take: StoredTake): BucketItem | undefined {
  if (!item || appliedBefore(item, take.op)) return undefined;
  const buckets = { ...item.buckets };
  for (const { metric, definition, costMilli, guard, lease, countGrant } of take.takes) {
    const bucket = buckets[metric];
    if (
      !bucket ||
      !sameDefinition(bucket, definition) ||
      !guardHolds(bucket, guard) ||
      (bucket.holdUntilMs ?? 0) > take.nowMs ||
      bucket.debtMilli !== 0 ||
      bucket.tokensMilli < costMilli
    )
      return undefined;
    buckets[metric] = {
      ...bucket,
      tokensMilli: bucket.tokensMilli - costMilli,
      lastRefillAtMs: guard.kind === 'full' ? guard.nowMs : bucket.lastRefillAtMs,
      ...(guard.kind === 'full' ? { fullAtMs: guard.nowMs } : {}),
      leases: lease ? { ...bucket.leases, [lease.id]: lease.state } : bucket.leases,
      grantedSinceCutMilli: bucket.grantedSinceCutMilli + (countGrant ? costMilli : 0),
    };
  }
  return {
    ...item,
    version: item.version + 1,
    buckets,
    writers: { ...item.writers, [take.op.writer]: take.op.seq },
  };
}

export function sameDefinition(a: BucketDefinitionState, b: BucketDefinitionState): boolean {
  return (
    a.limitType === b.limitType &&
    a.capacityMilli === b.capacityMilli &&
    a.windowMs === b.windowMs &&
    a.costPerCall === b.costPerCall
  );
}

function guardHolds(bucket: BucketState, guard: StoredTakeGuard): boolean {
  if (guard.kind !== 'leases' && Object.keys(bucket.leases).length > 0) return false;
  switch (guard.kind) {
    case 'leases':
      return true;
    case 'full':
      return (
        bucket.capacityMilli === guard.capacityMilli &&
        bucket.tokensMilli === guard.capacityMilli &&
        bucket.lastRefillAtMs <= guard.nowMs
      );
    case 'unfilled':
      return (
        bucket.capacityMilli === guard.capacityMilli &&
        bucket.windowMs === guard.windowMs &&
        bucket.tokensMilli <= guard.tokensAtMostMilli &&
        bucket.lastRefillAtMs >= guard.lastRefillAtLeastMs
      );
  }
}

/**
 * Hands concurrent leases of one item from one holder to the next in one write: each old lease
 * is removed and a new one (same cost, fresh expiry) added in its bucket, so the bucket's tokens
 * and its count of leases never change and no other caller can take the slot in between.
 * Applied only if every old lease is still held, the bucket still has the definition the
 * caller saw, its leases fit its capacity (tokens ≥ 0: a capacity lowered below the leases held
 * lets none be passed on), no `Retry-After` hold is in force at `nowMs`, and the item does not
 * hold `op` yet; a hand-over refused because the item holds `op` was applied before and answers `ok`.
 */
export interface LeaseHandOver {
  readonly pk: string;
  readonly op: WriteOp;
  readonly nowMs: number;
  readonly leases: readonly {
    readonly metric: string;
    readonly definition: BucketDefinitionState;
    readonly fromLeaseId: string;
    readonly to: { readonly id: string; readonly state: LeaseState };
  }[];
}

/** The item a successful `handOverLeases` leaves behind, or undefined where a condition fails. */
export function applyHandOver(item: BucketItem | undefined, handOver: LeaseHandOver): BucketItem | undefined {
  if (!item || appliedBefore(item, handOver.op)) return undefined;
  const buckets = { ...item.buckets };
  for (const { metric, definition, fromLeaseId, to } of handOver.leases) {
    const bucket = buckets[metric];
    const held = bucket?.leases[fromLeaseId];
    if (
      !bucket ||
      !held ||
      held.costMilli !== to.state.costMilli ||
      bucket.tokensMilli < 0 ||
      !sameDefinition(bucket, definition) ||
      (bucket.holdUntilMs ?? 0) > handOver.nowMs
    )
      return undefined;
    const { [fromLeaseId]: _handed, ...kept } = bucket.leases;
    buckets[metric] = { ...bucket, leases: { ...kept, [to.id]: to.state } };
  }
  return {
    ...item,
    version: item.version + 1,
    buckets,
    writers: { ...item.writers, [handOver.op.writer]: handOver.op.seq },
  };
}
