import { holdLeftMs } from '../bucket-math';
import { holdsLeases } from '../limit-types';
import { type BucketItem, type BucketState, FULL_RATE_PERMILLE, type WriteOp } from '../model';
import { mulDivFloor } from '../mul-div';
import { isShared } from '../shares';
import type { StoredTake, StoredTakeGuard } from '../writes';
import type { PlannedLease, Target } from './grant-plan';

/**
 * The take from stored tokens (`takeStored`, writes.ts), when one item holds every dimension
 * and, as cached, each bucket stores at least its cost with no debt and is full, or far enough
 * from full that refill at the configured rate cannot have filled it by `nowMs`; else undefined
 * (the versioned path refills first). A stale cache costs only a failed condition: the store
 * checks the guards on the item as it is.
 *
 * `sinceMs` (≤ `nowMs`) is when the acquire began: a take may be placed at any instant from then
 * to its answer. On a retry after a conflict this lets callers that arrived together share one
 * refill: the item handed back was refilled at or after `sinceMs`, so taking from its stored
 * tokens without crediting anything is exactly a take at that refill's instant.
 */
export function storedTakeFor(
  items: ReadonlyMap<string, BucketItem>,
  targets: readonly Target[],
  lease: { readonly idFor: (dimension: string) => string; readonly expiresAtMs: number },
  nowMs: number,
  op: WriteOp,
  sinceMs: number = nowMs,
): { readonly take: StoredTake; readonly leases: PlannedLease[] } | undefined {
  if (items.size !== 1) return undefined;
  const [item] = items.values();
  const takes: StoredTake['takes'][number][] = [];
  const leases: PlannedLease[] = [];
  for (const { address, costMilli } of targets) {
    const bucket = item!.buckets[address.metric];
    if (bucket === undefined) return undefined;
    // Shares decide who may take the tokens: the versioned path refills the reserves first.
    if (isShared(bucket)) return undefined;
    if (bucket.debtMilli !== 0 || bucket.tokensMilli < costMilli) return undefined;
    // A hold in force refuses: the versioned path plans the RetryIn with the time left.
    if (holdLeftMs(bucket, nowMs) > 0) return undefined;
    const { limitType, capacityMilli, windowMs, costPerCall } = bucket;
    const definition = { limitType, capacityMilli, windowMs, costPerCall };
    if (holdsLeases(bucket.limitType)) {
      const state = { costMilli, expiresAtMs: lease.expiresAtMs };
      const id = lease.idFor(address.dimension);
      takes.push({
        metric: address.metric,
        definition,
        costMilli,
        guard: { kind: 'leases' },
        lease: { id, state },
        countGrant: false,
      });
      leases.push({ address, leaseId: id, ...state });
      continue;
    }
    // A sliced bucket is taken from by its slices' versioned writes only (ops/slices.ts).
    if (bucket.slicing || Object.keys(bucket.leases).length > 0) return undefined;
    const guard = refillGuard(bucket, nowMs, Math.min(sinceMs, nowMs));
    if (!guard) return undefined;
    const countGrant = bucket.rateScalePermille < FULL_RATE_PERMILLE;
    takes.push({ metric: address.metric, definition, costMilli, guard, countGrant });
  }
  return { take: { pk: item!.pk, op, nowMs, takes }, leases };
}

/**
 * The guard under which taking from this time bucket's stored tokens is exact, if any, for a
 * take placed at an instant in [`sinceMs`, `nowMs`].
 */
function refillGuard(bucket: BucketState, nowMs: number, sinceMs: number): StoredTakeGuard | undefined {
  const { capacityMilli, windowMs, tokensMilli, lastRefillAtMs } = bucket;
  if (tokensMilli >= capacityMilli && lastRefillAtMs <= nowMs) return { kind: 'full', capacityMilli, nowMs };
  // Refilled at or after `sinceMs` (by a caller that won the race, or a clock ahead of ours):
  // taking from the stored tokens with no credit is the take at that refill's instant, which lies
  // in this acquire's span. The store checks that it still stores no more and was refilled no earlier.
  if (lastRefillAtMs >= sinceMs) {
    return {
      kind: 'unfilled',
      capacityMilli,
      windowMs,
      tokensAtMostMilli: tokensMilli,
      lastRefillAtLeastMs: sinceMs,
    };
  }
  // Refill at the configured rate (the scale never exceeds it) fills the room in this long at least.
  const fillMs = mulDivFloor(capacityMilli - tokensMilli, windowMs, capacityMilli);
  const lastRefillAtLeastMs = sinceMs - fillMs;
  if (lastRefillAtMs < lastRefillAtLeastMs) return undefined;
  return { kind: 'unfilled', capacityMilli, windowMs, tokensAtMostMilli: tokensMilli, lastRefillAtLeastMs };
}
