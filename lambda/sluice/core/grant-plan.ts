import { SluiceError } from '../errors';
import { refill, take } from './bucket-math';
import type { DimensionAddress } from './dimensions';
import { holdsLeases, type LimitType } from './limit-types';
import type { BucketItem, BucketState, WriteOp } from './model';
import type { BucketWrite } from './writes';

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
    }
  | {
      readonly kind: 'deny';
      readonly waitMs: number;
      readonly dimension: string;
      /** Items whose bucket said no: a denial holds only from a recent view of them. */
      readonly deniedPks: readonly string[];
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
): GrantPlan {
  const touched = new Map<string, Record<string, BucketState>>();
  const leases: PlannedLease[] = [];
  let deny: { waitMs: number; dimension: string } | undefined;
  const deniedPks = new Set<string>();
  for (const { address, costMilli } of targets) {
    const item = items.get(address.pk);
    const buckets = touched.get(address.pk) ?? {};
    const current = buckets[address.metric] ?? item?.buckets[address.metric];
    if (!current) throw new SluiceError(`planGrant: no bucket ${address.dimension} loaded`);
    const refilled = refill(current, nowMs);
    const concurrent = holdsLeases(refilled.limitType);
    const leaseId = lease.idFor(address.dimension);
    const leaseState = { costMilli, expiresAtMs: lease.expiresAtMs };
    const result = take(
      refilled,
      costMilli,
      nowMs,
      concurrent ? { id: leaseId, state: leaseState } : undefined,
    );
    if (result.ok) {
      buckets[address.metric] = result.bucket;
      touched.set(address.pk, buckets);
      if (concurrent) leases.push({ address, leaseId, ...leaseState });
      continue;
    }
    deniedPks.add(address.pk);
    if (!deny || result.waitMs > deny.waitMs) deny = { waitMs: result.waitMs, dimension: address.dimension };
  }
  if (deny) return { kind: 'deny', ...deny, deniedPks: [...deniedPks] };
  const writes = [...touched].map(([pk, buckets]) => ({
    pk,
    expectedVersion: items.get(pk)!.version,
    buckets,
    op,
  }));
  return { kind: 'grant', writes, leases };
}
