import { SluiceError } from '../../errors';
import { take } from '../bucket-math';
import type { DimensionAddress } from '../dimensions';
import { holdsLeases, type LimitType } from '../limit-types';
import type { BucketItem, BucketState, WriteOp } from '../model';
import { admitShare, isShared, refillWithShares, type ShareTake } from '../shares';
import type { BucketWrite } from '../writes';

/** One dimension of an acquire, its cost resolved. */
export interface Target {
  readonly address: DimensionAddress;
  readonly cost: number;
  readonly costMilli: number;
  /** As the definition the cost was resolved on has it. */
  readonly limitType: LimitType;
}

export interface PlannedLease {
  readonly address: DimensionAddress;
  readonly leaseId: string;
  readonly costMilli: number;
  readonly expiresAtMs: number;
}

export type GrantPlan =
  | {
      readonly kind: 'grant';
      readonly writes: readonly BucketWrite[];
      readonly leases: readonly PlannedLease[];
      /** How each shared bucket's cost was taken (docs/design.md, "Fair shares"), by dimension. */
      readonly shares: Readonly<Record<string, ShareTake>>;
    }
  | {
      readonly kind: 'deny';
      readonly waitMs: number;
      readonly dimension: string;
      /** Items whose bucket said no: a denial holds only from a recent view of them. */
      readonly deniedPks: readonly string[];
      /**
       * The product's demand marked on the shared buckets it waits on, to write before answering
       * (empty: nothing to write). Written, the product's share of the refill is its own from now.
       */
      readonly marks: readonly BucketWrite[];
    };

/**
 * Pure: refills every touched bucket to `nowMs` and takes every cost, all or nothing. On a
 * denial, the wait is the largest over the dimensions that said no (docs/design.md, "Wait formulas").
 */
export function planGrant(
  items: ReadonlyMap<string, BucketItem>,
  targets: readonly Target[],
  nowMs: number,
  lease: { readonly idFor: (dimension: string) => string; readonly expiresAtMs: number },
  op: WriteOp,
  product?: string,
): GrantPlan {
  const touched = new Map<string, Record<string, BucketState>>();
  const marked = new Map<string, Record<string, BucketState>>();
  const leases: PlannedLease[] = [];
  const shares: Record<string, ShareTake> = {};
  let deny: { waitMs: number; dimension: string } | undefined;
  const deniedPks = new Set<string>();
  for (const { address, costMilli } of targets) {
    const item = items.get(address.pk);
    const buckets = touched.get(address.pk) ?? {};
    const current = buckets[address.metric] ?? item?.buckets[address.metric];
    if (!current) throw new SluiceError(`planGrant: no bucket ${address.dimension} loaded`);
    const refilled = refillWithShares(current, nowMs);
    const concurrent = holdsLeases(refilled.limitType);
    const leaseId = lease.idFor(address.dimension);
    const leaseState = { costMilli, expiresAtMs: lease.expiresAtMs };
    const result = take(
      refilled,
      costMilli,
      nowMs,
      concurrent ? { id: leaseId, state: leaseState } : undefined,
    );
    let waitMs = result.ok ? 0 : result.waitMs;
    let bucket = result.ok ? result.bucket : undefined;
    if (isShared(refilled)) {
      const admission = admitShare(refilled, bucket, product, costMilli, nowMs);
      if (admission.ok) {
        bucket = admission.bucket;
        shares[address.dimension] = admission.take;
      } else {
        bucket = undefined;
        waitMs = Math.max(waitMs, admission.waitMs);
        if (admission.marked)
          marked.set(address.pk, { ...marked.get(address.pk), [address.metric]: admission.marked });
      }
    }
    if (bucket) {
      buckets[address.metric] = bucket;
      touched.set(address.pk, buckets);
      if (concurrent) leases.push({ address, leaseId, ...leaseState });
      continue;
    }
    deniedPks.add(address.pk);
    if (!deny || waitMs > deny.waitMs) deny = { waitMs, dimension: address.dimension };
  }
  const writesOf = (byPk: Map<string, Record<string, BucketState>>) =>
    [...byPk].map(([pk, buckets]) => ({ pk, expectedVersion: items.get(pk)!.version, buckets, op }));
  if (deny) return { kind: 'deny', ...deny, deniedPks: [...deniedPks], marks: writesOf(marked) };
  return { kind: 'grant', writes: writesOf(touched), leases, shares };
}
