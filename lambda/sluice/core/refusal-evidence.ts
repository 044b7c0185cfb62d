import { availableMilli, holdLeftMs, refill } from './bucket-math';
import type { Target } from './grant-plan';
import { holdsLeases } from './limit-types';
import type { BucketItem } from './model';

/**
 * Another client's write this recently before a view marks its item as contended: other
 * callers are taking the refill as it comes.
 */
export const CONTENDED_WITHIN_MS = 1_000;

/**
 * Whether a grant planned on a cached view rests only on refill credited **after** the view was
 * confirmed, on an item other clients are writing: at the view's own instant the bucket did not
 * hold the cost, and the refill since is what another caller is likely to have taken already.
 * Such a write is a bet that usually fails (a billed failed condition, then a refusal), so the
 * caller reads first (no write capacity): on the fresh item it either takes what is there or
 * refuses without a write. A bucket whose view itself covers the cost, an item only this client
 * writes, and a refusal the view proves (not enough even with all refill since) need no read.
 */
export function restsOnUnseenRefill(
  item: BucketItem,
  targets: readonly Target[],
  confirmedAtMs: number,
  nowMs: number,
  ownClient: string,
): boolean {
  const contended = Object.entries(item.writers).some(
    ([lane, seq]) => !lane.startsWith(`${ownClient}.`) && seq >= confirmedAtMs - CONTENDED_WITHIN_MS,
  );
  if (!contended) return false;
  return targets.some(({ address, costMilli }) => {
    if (address.pk !== item.pk) return false;
    const bucket = item.buckets[address.metric];
    if (!bucket || holdsLeases(bucket.limitType) || holdLeftMs(bucket, nowMs) > 0) return false;
    const atView = availableMilli(refill(bucket, confirmedAtMs));
    return atView < costMilli && availableMilli(refill(bucket, nowMs)) >= costMilli;
  });
}
