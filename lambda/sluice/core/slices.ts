import { availableMilli, refill, take } from './bucket-math';
import { type BucketState, FULL_RATE_PERMILLE, type LeaseState } from './model';

/**
 * Leases for hot buckets, as pure functions of a bucket (docs/design.md, "Leases for hot
 * buckets"). A process takes a slice of a sliced time bucket's tokens with one versioned write,
 * recorded in the bucket's `leases` at its whole size, and grants from it locally until it is
 * used up or expires; what it did not use goes back in its next slice's write or by
 * `returnLease`. Refill fills the stored tokens only up to the capacity less the slices held, so
 * stored tokens plus slices never exceed the capacity.
 */

/**
 * A slice is dropped (its unused part counted as used) only this long after its expiry by the
 * dropper's clock: twice the clock-skew bound the SDK tolerates (±500 ms), so its holder, which
 * grants from it only until the expiry by its own clock, is done with it.
 */
export const SLICE_DROP_AFTER_MS = 1_000;

/** The slice a process asks for: the largest share the definition allows, at least one call's cost. */
export function sliceTargetMilli(bucket: BucketState, costMilli: number): number {
  const share = bucket.slicing?.sharePermille ?? 0;
  return Math.max(costMilli, Math.floor((bucket.capacityMilli * share) / FULL_RATE_PERMILLE));
}

export interface SliceRequest {
  readonly costMilli: number;
  readonly id: string;
  readonly expiresAtMs: number;
  /** The slice this process holds on the bucket: what it did not use goes back in the same write. */
  readonly returning?: { readonly id: string; readonly unusedMilli: number };
}

export type SlicePlan =
  | { readonly ok: true; readonly bucket: BucketState; readonly slice: LeaseState }
  | { readonly ok: false; readonly waitMs: number; readonly bucket: BucketState };

/**
 * Refills to `nowMs` (with the room the slices held left meanwhile), takes back the unused part
 * of `returning`, drops slices expired more than `SLICE_DROP_AFTER_MS` ago, then takes a new slice
 * of at most `sliceTargetMilli` and at least `costMilli`, or says how long to wait. On a denial
 * `bucket` is still the bucket with the return and the drops applied, to be written anyway when
 * it returned something (the capacity goes back to others at once).
 */
export function planSlice(bucket: BucketState, nowMs: number, request: SliceRequest): SlicePlan {
  const refilled = refill(bucket, nowMs);
  const leases: Record<string, LeaseState> = {};
  let tokensMilli = refilled.tokensMilli;
  for (const [id, held] of Object.entries(refilled.leases)) {
    if (id === request.returning?.id) {
      tokensMilli += Math.max(0, Math.min(request.returning.unusedMilli, held.costMilli));
    } else if (held.expiresAtMs + SLICE_DROP_AFTER_MS >= nowMs) {
      leases[id] = held;
    }
  }
  const released: BucketState = { ...refilled, tokensMilli, leases };
  const sizeMilli = Math.min(sliceTargetMilli(released, request.costMilli), availableMilli(released));
  const taken = take(released, Math.max(sizeMilli, request.costMilli), nowMs);
  if (!taken.ok) return { ok: false, waitMs: taken.waitMs, bucket: released };
  const slice = { costMilli: Math.max(sizeMilli, request.costMilli), expiresAtMs: request.expiresAtMs };
  return { ok: true, slice, bucket: { ...taken.bucket, leases: { ...leases, [request.id]: slice } } };
}
