import type { BucketDefinitionState, BucketItem, BucketState } from './model';

/**
 * The persistence port of the SDK. A failed condition is a value (`conflict`) carrying the
 * item as it is now, so the caller retries without a read; an unreachable or throttling
 * store throws `SluiceStoreError`. Two implementations pass one contract suite:
 * `MemoryBucketStore` and `DynamoBucketStore`.
 */

/** Replace whole bucket/template entries of one item, if its version is still `expectedVersion`. */
export interface BucketWrite {
  readonly pk: string;
  readonly expectedVersion: number;
  readonly buckets?: Readonly<Record<string, BucketState>>;
  readonly templates?: Readonly<Record<string, BucketDefinitionState>>;
}

export type WriteOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly current: BucketItem | undefined };

/**
 * On a cancelled transaction `current` holds the items whose condition failed, with their
 * content when the store returned it (`undefined`: absent, or the store did not say).
 */
export type TransactOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly current: ReadonlyMap<string, BucketItem | undefined> };

/** Gives a lease's cost back to a concurrent bucket, if the lease is still there. */
export interface LeaseReturn {
  readonly pk: string;
  readonly metric: string;
  readonly leaseId: string;
  readonly costMilli: number;
  /** Reconcile: only if the lease expired before this instant. */
  readonly expiredBeforeMs?: number;
}

export type LeaseReturnOutcome = { readonly ok: true; readonly item: BucketItem } | { readonly ok: false };

export interface ScanPage {
  readonly items: readonly BucketItem[];
  /** Absent on the last page. */
  readonly cursor?: string;
}

export interface BucketStore {
  /** A strongly consistent read. */
  get(pk: string): Promise<BucketItem | undefined>;
  /** Writes `item` only if no item has its pk. */
  create(item: BucketItem): Promise<WriteOutcome>;
  /** One conditional write; bumps the version by one. */
  write(write: BucketWrite): Promise<WriteOutcome>;
  /** All-or-nothing over distinct items (at most 100); each bumps its version by one. */
  writeAll(writes: readonly BucketWrite[]): Promise<TransactOutcome>;
  /** Exactly once per lease: a second return (or a racing reclaim) gets `{ ok: false }`. */
  returnLease(lease: LeaseReturn): Promise<LeaseReturnOutcome>;
  scan(cursor?: string, limit?: number): Promise<ScanPage>;
}

/** The item a successful `write` leaves behind (what both stores do, for the caller's cache). */
export function applyWrite(item: BucketItem, write: BucketWrite): BucketItem {
  return {
    ...item,
    version: item.version + 1,
    buckets: { ...item.buckets, ...write.buckets },
    templates: { ...item.templates, ...write.templates },
  };
}
