import { holdsLeases } from '../core/limit-types';
import { type BucketItem, type BucketState, WRITER_FORGET_MS } from '../core/model';
import { SLICE_DROP_AFTER_MS } from '../core/slices';
import type { ReconcileOptions, ReconcileReport } from '../core/types';
import type { SluiceContext } from './context';
import { SluiceLogEvent } from './log-events';

/**
 * Sweeps the bucket items (`store.sweep`, paginated: never the idempotency records or the
 * circuit item beside them) and returns the capacity of expired concurrent leases.
 * Each return is conditioned on the lease still existing AND having expired, so a release
 * racing the sweep restores capacity exactly once and a live holder is never reclaimed.
 * Idempotent: a second run finds nothing to return. A failing item is counted and skipped, and
 * so is one that cannot be decoded or that the store could not read (logged with its key): the
 * rest of the sweep goes on.
 * It also forgets writer lanes idle for `WRITER_FORGET_MS` (counted in `deleted`), so the ops
 * kept for recognising repeated writes do not grow an item as Lambda containers come and go.
 * Past `stopAtMs` it starts no further page and reports itself `unfinished`.
 */
export async function reconcile(
  ctx: SluiceContext,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const report = { totalLeases: 0, restored: 0, deleted: 0, failedItems: 0 };
  let unfinished = false;
  let cursor: string | undefined;
  do {
    const page = await ctx.store.sweep(cursor);
    for (const { pk, error } of page.undecodable ?? []) {
      report.failedItems++;
      ctx.logger.error('reconciler.item_failed', { pk, step: 'decode', error });
    }
    for (const pk of page.unread ?? []) {
      report.failedItems++;
      ctx.logger.error('reconciler.item_failed', { pk, step: 'read', error: 'left unread by the store' });
    }
    for (const item of page.items) {
      try {
        await reconcileItem(ctx, item, report);
      } catch (error) {
        report.failedItems++;
        ctx.logger.error('reconciler.item_failed', { pk: item.pk, error: (error as Error).message });
      }
    }
    cursor = page.cursor;
    unfinished = cursor !== undefined && options.stopAtMs !== undefined && ctx.clock() >= options.stopAtMs;
  } while (cursor !== undefined && !unfinished);
  ctx.logger.info(SluiceLogEvent.reconcilerScanComplete, {
    total_leases: report.totalLeases,
    restored: report.restored,
    deleted: report.deleted,
    failed_items: report.failedItems,
    ...(unfinished ? { unfinished: true } : {}),
  });
  return unfinished ? { ...report, unfinished: true } : report;
}

/**
 * A time bucket's slices (leases for hot buckets) expired more than `SLICE_DROP_AFTER_MS` ago:
 * removed, their unused part counted as used (their holder may have granted it), which lets
 * refill fill the stored tokens up to the capacity again. Counted in `restored`.
 */
async function dropExpiredSlices(
  ctx: SluiceContext,
  pk: string,
  metric: string,
  bucket: BucketState,
  nowMs: number,
  report: { totalLeases: number; restored: number },
) {
  const expiredBeforeMs = nowMs - SLICE_DROP_AFTER_MS;
  for (const [leaseId, slice] of Object.entries(bucket.leases)) {
    report.totalLeases++;
    if (!(slice.expiresAtMs < expiredBeforeMs)) continue;
    const outcome = await ctx.store.returnLease({ pk, metric, leaseId, costMilli: 0, expiredBeforeMs });
    if (outcome.ok) {
      report.restored++;
      ctx.cache.remember(outcome.item);
    }
  }
}

async function reconcileItem(
  ctx: SluiceContext,
  scanned: BucketItem,
  report: { totalLeases: number; restored: number; deleted: number },
) {
  const nowMs = ctx.clock();
  let item = scanned;
  for (const [metric, bucket] of Object.entries(item.buckets)) {
    if (!holdsLeases(bucket.limitType)) {
      await dropExpiredSlices(ctx, item.pk, metric, bucket, nowMs, report);
      continue;
    }
    for (const [leaseId, lease] of Object.entries(bucket.leases)) {
      report.totalLeases++;
      if (!(lease.expiresAtMs < nowMs)) continue;
      const outcome = await ctx.store.returnLease({
        pk: item.pk,
        metric,
        leaseId,
        costMilli: lease.costMilli,
        expiredBeforeMs: nowMs,
      });
      if (outcome.ok) {
        report.restored++;
        ctx.cache.remember(outcome.item);
        item = outcome.item;
      }
    }
  }
  const idle = Object.keys(item.writers).filter((w) => item.writers[w]! < nowMs - WRITER_FORGET_MS);
  if (idle.length === 0) return;
  // On the version seen: a conflict leaves them to the next run. Forgetting twice is forgetting once.
  const outcome = await ctx.store.write({ pk: item.pk, expectedVersion: item.version, forgetWriters: idle });
  if (outcome.ok) report.deleted += idle.length;
}
