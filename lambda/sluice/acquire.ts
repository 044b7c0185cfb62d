import { LogEvent } from '../contract';
import { bucketOf, itemFor, leaseLifetimeMs, type SluiceContext, unknownDimension } from './context';
import { costToMilli, parseDimension, requestedCosts } from './dimensions';
import { makeGrant } from './grant';
import { planGrant, type Target } from './grant-plan';
import type { BucketItem } from './model';
import { applyWrite, type BucketWrite } from './store';
import type { AcquireRequest, AcquireResult, RetryIn } from './types';

export interface AcquireOptions {
  /** Lease lifetime for concurrent dimensions (at least the slot timeout + margin). @default settings.leaseTtlSeconds */
  readonly leaseTtlSeconds?: number;
}

/** Jittered backoff ceiling once version conflicts used up `maxRetries`: short, the bucket is hot. */
const CONTENTION_BASE_MS = 25;
const CONTENTION_MAX_MS = 1_000;
const CONTENTION_MIN_MS = 5;

/**
 * One acquire attempt, all-or-nothing over every dimension. Warm path: zero reads, one
 * conditional write (one item) or one transaction (several items). A conflict hands back the
 * current item (ALL_OLD), so the retry needs no read.
 */
export async function acquire(
  ctx: SluiceContext,
  request: AcquireRequest,
  options: AcquireOptions = {},
): Promise<AcquireResult> {
  const requested = requestedCosts(request);
  const addresses = Object.keys(requested).map((d) => parseDimension(d));
  const fresh = new Set<string>();
  for (const address of addresses) {
    if ((await itemFor(ctx, address)).fresh) fresh.add(address.pk);
  }
  const targets: Target[] = addresses.map((address) => {
    const bucket = bucketOf(ctx.cache.peek(address.pk)!, address);
    const cost = requested[address.dimension] ?? bucket.costPerCall;
    return { address, cost, costMilli: costToMilli(address.dimension, cost, bucket) };
  });
  const leaseIds = new Map(targets.map((t) => [t.address.dimension, newLeaseId(ctx)]));
  const lifetimeMs = leaseLifetimeMs(ctx.settings, options.leaseTtlSeconds);
  let attempt = 0;
  while (attempt <= ctx.settings.maxRetries) {
    const nowMs = ctx.clock();
    const items = new Map<string, BucketItem>();
    for (const { address } of targets) {
      // A conflict may hand back an item whose bucket was removed meanwhile.
      const item = ctx.cache.peek(address.pk);
      if (!item?.buckets[address.metric]) throw unknownDimension(address);
      items.set(address.pk, item);
    }
    const plan = planGrant(items, targets, nowMs, {
      idFor: (d) => leaseIds.get(d)!,
      expiresAtMs: nowMs + lifetimeMs,
    });
    if (plan.kind === 'deny') {
      // A concurrent bucket gets capacity back on release: say no only from fresh state.
      const stale = plan.concurrentPks.filter((pk) => !fresh.has(pk));
      if (stale.length > 0) {
        for (const pk of stale) {
          await ctx.cache.refresh(pk);
          fresh.add(pk);
        }
        continue;
      }
      return retryIn(ctx, plan.waitMs, plan.dimension);
    }
    const conflicted = await writePlan(ctx, items, plan.writes);
    if (conflicted.length === 0) {
      const grant = makeGrant(ctx, targets, plan.leases, nowMs);
      ctx.logger.info(LogEvent.acquireGranted, {
        dimensions: targets.map((t) => t.address.dimension),
        costs: grant.costs,
        lease_ids: plan.leases.map((l) => l.leaseId),
        attempt,
      });
      return grant;
    }
    for (const pk of conflicted) fresh.add(pk);
    attempt++;
    ctx.logger.debug(LogEvent.acquireContentionRetry, { attempt, backoff_ms: 0, pks: conflicted });
  }
  const ceiling = Math.min(CONTENTION_MAX_MS, CONTENTION_BASE_MS * 2 ** attempt);
  const backoffMs = Math.max(CONTENTION_MIN_MS, Math.floor(ctx.random() * ceiling));
  ctx.logger.warn(LogEvent.acquireContentionRetry, {
    attempt,
    backoff_ms: backoffMs,
    dimensions: Object.keys(requested),
  });
  return retryIn(ctx, backoffMs, targets[0]!.address.dimension);
}

/** Writes the plan; on a conflict refreshes the cache (from ALL_OLD, else one read) and returns the pks that conflicted. */
async function writePlan(
  ctx: SluiceContext,
  items: ReadonlyMap<string, BucketItem>,
  writes: readonly BucketWrite[],
): Promise<string[]> {
  const remember = () => {
    for (const w of writes) ctx.cache.remember(applyWrite(items.get(w.pk)!, w));
  };
  if (writes.length === 1) {
    const outcome = await ctx.store.write(writes[0]!);
    if (outcome.ok) {
      remember();
      return [];
    }
    if (outcome.current) ctx.cache.remember(outcome.current);
    else await ctx.cache.refresh(writes[0]!.pk);
    return [writes[0]!.pk];
  }
  const outcome = await ctx.store.writeAll(writes);
  if (outcome.ok) {
    remember();
    return [];
  }
  for (const [pk, current] of outcome.current) {
    if (current) ctx.cache.remember(current);
    else await ctx.cache.refresh(pk);
  }
  return [...outcome.current.keys()];
}

function retryIn(ctx: SluiceContext, waitMs: number, dimension: string): RetryIn {
  const waitSeconds = waitMs / 1000;
  ctx.logger.info(LogEvent.acquireRetryIn, { dimension, wait_seconds: waitSeconds });
  return { outcome: 'RetryIn', waitSeconds, dimension };
}

/** Lease ids come from the injected randomness, so simulations are reproducible. */
function newLeaseId(ctx: SluiceContext): string {
  const part = () =>
    Math.floor(ctx.random() * 2 ** 32)
      .toString(36)
      .padStart(7, '0');
  return `${part()}${part()}`;
}
