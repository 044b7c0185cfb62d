import type { BucketDefinitionState, BucketItem } from '../core/model';
import type { BucketWrite, LeaseHandOver, StoredTake } from '../core/writes';

/**
 * The persistence port of the SDK. A failed condition is a value (`conflict`) carrying the
 * item as it is now, so the caller retries without a read; an unreachable or throttling
 * store throws `SluiceStoreError`. Two implementations pass one contract suite:
 * `MemoryBucketStore` and `DynamoBucketStore`.
 */

export type WriteOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly current: BucketItem | undefined };

/** A key's item is created from its template only while the template item still holds `definition`. */
export interface TemplateCheck {
  readonly pk: string;
  readonly metric: string;
  readonly definition: BucketDefinitionState;
}

/** A failed creation: the item exists (`current`), or the template changed (`templateItem`, as it is now). */
export type CreateOutcome =
  | WriteOutcome
  | { readonly ok: false; readonly current: undefined; readonly templateItem: BucketItem | undefined };

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

/** Success carries the item as the take left it; a failed condition the item as it is. */
export type StoredTakeOutcome =
  | { readonly ok: true; readonly item: BucketItem }
  | { readonly ok: false; readonly current: BucketItem | undefined };

export type LeaseReturnOutcome = { readonly ok: true; readonly item: BucketItem } | { readonly ok: false };

export interface ScanPage {
  readonly items: readonly BucketItem[];
  /**
   * Items of the page that carry a bucket version but could not be decoded (hand-edited, or
   * written by a newer version): skipped, so that one of them never stops a sweep.
   */
  readonly undecodable?: readonly { readonly pk: string; readonly error: string }[];
  /** Sweep pages: keys the index listed whose items the store could not read in time (left to the next sweep). */
  readonly unread?: readonly string[];
  /** Table scans: bucket items written before the sweep index, not in it yet (`markForSweep` puts them there). */
  readonly unmarked?: readonly string[];
  /** Absent on the last page. */
  readonly cursor?: string;
}

export interface BucketStore {
  /** A strongly consistent read. */
  get(pk: string): Promise<BucketItem | undefined>;
  /** Writes `item` only if no item has its pk (and, given `template`, only while that template holds). */
  create(item: BucketItem, template?: TemplateCheck): Promise<CreateOutcome>;
  /** One conditional write; bumps the version by one. */
  write(write: BucketWrite): Promise<WriteOutcome>;
  /** All-or-nothing over distinct items (at most 100); each bumps its version by one. */
  writeAll(writes: readonly BucketWrite[]): Promise<TransactOutcome>;
  /** See `StoredTake`. */
  takeStored(take: StoredTake): Promise<StoredTakeOutcome>;
  /**
   * See `LeaseHandOver`: one conditional write. Success carries the item as the hand-over left
   * it; a failed condition (an old lease no longer held: released or reclaimed) the item as it is.
   */
  handOverLeases(handOver: LeaseHandOver): Promise<StoredTakeOutcome>;
  /** Exactly once per lease: a second return (or a racing reclaim) gets `{ ok: false }`. */
  returnLease(lease: LeaseReturn): Promise<LeaseReturnOutcome>;
  /** Every item of the table, bucket or not (the seeding's upserts, at deploy time only). */
  scan(cursor?: string, limit?: number): Promise<ScanPage>;
  /**
   * The bucket items only, as the reconciler reads them: its pages never hold, nor read, the
   * idempotency records or the circuit item that share the table. An item reads as it is now
   * (strongly consistent), not as a snapshot of the page.
   */
  sweep(cursor?: string, limit?: number): Promise<ScanPage>;
  /** Puts a bucket item written before the sweep index into it; nothing for one already in it. */
  markForSweep(pk: string): Promise<void>;
}
