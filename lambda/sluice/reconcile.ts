import { LogEvent } from '../contract';
import type { SluiceContext } from './context';
import type { BucketItem } from './model';
import type { ReconcileReport } from './types';

/**
 * Sweeps the whole table (paginated) and returns the capacity of expired concurrent leases.
 * Each return is conditioned on the lease still existing AND having expired, so a release
 * racing the sweep restores capacity exactly once and a live holder is never reclaimed.
 * Idempotent: a second run finds nothing to return. A failing item is counted and skipped.
 */
export async function reconcile(ctx: SluiceContext): Promise<ReconcileReport> {
  const report = { totalLeases: 0, restored: 0, deleted: 0, failedItems: 0 };
  let cursor: string | undefined;
  do {
    const page = await ctx.store.scan(cursor);
    for (const item of page.items) {
      try {
        await reconcileItem(ctx, item, report);
      } catch (error) {
        report.failedItems++;
        ctx.logger.error('reconciler.item_failed', { pk: item.pk, error: (error as Error).message });
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  ctx.logger.info(LogEvent.reconcilerScanComplete, {
    total_leases: report.totalLeases,
    restored: report.restored,
    deleted: report.deleted,
    failed_items: report.failedItems,
  });
  return report;
}

async function reconcileItem(
  ctx: SluiceContext,
  item: BucketItem,
  report: { totalLeases: number; restored: number },
) {
  const nowMs = ctx.clock();
  for (const [metric, bucket] of Object.entries(item.buckets)) {
    if (bucket.limitType !== 'concurrent') continue;
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
      }
    }
  }
}
