import { availableMilli, holdLeftMs, refill } from '../bucket-math';
import { holdsLeases } from '../limit-types';
import type { BucketItem, BucketState } from '../model';
import type { Target } from './grant-plan';

/**
 * Another client's write this recently before a view marks its item as contended: other
 * callers are taking the refill as it comes.
 */
export const CONTENDED_WITHIN_MS = 1_000;

/**
 * Whether a grant planned on a cached view is a bet on an item other clients are writing: the
 * view, at its own instant, held less than this caller's cost and one cost for each other
 * writer seen within `CONTENDED_WITHIN_MS` of it, the same measure as `scarceUnderContention`.
 * A near-empty bucket's tokens, and the refill since the view, are what the other callers are
 * taking as they come, so such a write usually fails (a billed failed condition, then a
 * refusal). The caller reads first (no write capacity): on the fresh item it either takes what
 * is there or refuses without a write. A view with tokens to spare for every writer (a hot
 * bucket, which the conflict-free `takeStored` write serves), an item only this client writes,
 * and a refusal the view proves (not enough even with all refill since) need no read.
 */
export function betsOnContendedView(
  item: BucketItem,
  targets: readonly Target[],
  confirmedAtMs: number,
  nowMs: number,
  ownClient: string,
): boolean {
  const contenders = contendersOf(item, confirmedAtMs, ownClient);
  return raced(item, targets, nowMs, contenders, (bucket, costMilli) => {
    const atView = availableMilli(refill(bucket, confirmedAtMs));
    return atView < costMilli * (1 + contenders) && availableMilli(refill(bucket, nowMs)) >= costMilli;
  });
}

/** The other clients' lanes that wrote the item within `CONTENDED_WITHIN_MS` before `atMs`. */
export function contendersOf(item: BucketItem, atMs: number, ownClient: string): number {
  return Object.entries(item.writers).filter(
    ([lane, seq]) => !lane.startsWith(`${ownClient}.`) && seq >= atMs - CONTENDED_WITHIN_MS,
  ).length;
}

/**
 * Whether an item, as a failed write just handed it back, is being emptied by other writers:
 * one of them wrote it lately, and what it holds now covers this caller's cost but not one
 * cost for each of them as well. Writing again at once races the same callers for the same
 * few tokens, each lost race a billed failed condition (chains of four were common at three
 * times the bucket's rate from eight clients). The caller steps back for a jittered moment instead; its
 * next attempt reads first (`betsOnContendedView`) and then takes or refuses without a failed
 * write. A bucket with tokens to spare for every writer is retried at once, as before, so a
 * burst on a full bucket still grants what it holds.
 */
export function scarceUnderContention(
  item: BucketItem,
  targets: readonly Target[],
  nowMs: number,
  ownClient: string,
): boolean {
  const contenders = contendersOf(item, nowMs, ownClient);
  return raced(item, targets, nowMs, contenders, (bucket, costMilli) => {
    // Less than one cost: the next plan refuses with the exact wait, no write.
    const available = availableMilli(refill(bucket, nowMs));
    return available >= costMilli && available < costMilli * (1 + contenders);
  });
}

/**
 * Whether `scarce` holds for a target on this item that others are racing for: with contenders,
 * on a time bucket out of any hold (a hold refuses with its exact end; a concurrent bucket's
 * leases are not refill).
 */
function raced(
  item: BucketItem,
  targets: readonly Target[],
  nowMs: number,
  contenders: number,
  scarce: (bucket: BucketState, costMilli: number) => boolean,
): boolean {
  if (contenders === 0) return false;
  return targets.some(({ address, costMilli }) => {
    if (address.pk !== item.pk) return false;
    const bucket = item.buckets[address.metric];
    if (!bucket || holdsLeases(bucket.limitType) || holdLeftMs(bucket, nowMs) > 0) return false;
    return scarce(bucket, costMilli);
  });
}
