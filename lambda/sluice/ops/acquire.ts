import { costToMilli, type DimensionAddress, parseDimension, requestedCosts } from '../core/dimensions';
import { type PlannedLease, planGrant, type Target } from '../core/grant-plan';
import { leaseLifetimeMs } from '../core/leases';
import type { BucketItem, WriteOp } from '../core/model';
import type { ShareTake } from '../core/shares';
import { storedTakeFor } from '../core/stored-take-plan';
import type { AcquireRequest, AcquireResult, RetryIn } from '../core/types';
import { withOp } from '../core/writer-lanes';
import { applyWrite, type BucketWrite } from '../core/writes';
import { isSluiceInputError } from '../errors';
import { type AcquireOptions, productField } from './acquire-options';
import type { SluiceContext } from './context';
import { makeGrant } from './grant';
import { bucketOf, itemFor, unknownDimension } from './items';
import { SluiceLogEvent } from './log-events';

/**
 * The oldest view of an item a refusal may be computed from. Capacity comes back by releases,
 * refunds and upserts that a warm cache does not see; past this age the item is read again
 * before saying no, so a waiting caller reads each item at most about once this often.
 */
export const STALE_REFUSAL_MS = 1_000;

/** Jittered backoff ceiling once version conflicts used up `maxRetries`: short, the bucket is hot. */
const CONTENTION_BASE_MS = 25;
const CONTENTION_MAX_MS = 1_000;
const CONTENTION_MIN_MS = 5;

/**
 * One acquire attempt, all-or-nothing over every dimension. Warm path: zero reads, one
 * conditional write (one item) or one transaction (several items). When one item holds every
 * dimension and its stored tokens already cover every cost, the write takes from them without
 * a version condition (`takeStored`), so callers arriving together do not conflict; otherwise
 * it refills and writes conditioned on the version. A failed condition hands back the current
 * item (ALL_OLD), so the retry needs no read.
 */
export async function acquire(
  ctx: SluiceContext,
  request: AcquireRequest,
  options: AcquireOptions = {},
): Promise<AcquireResult> {
  // Checked before any bucket is touched.
  const label = productField(options);
  // One op for every attempt: at most one attempt applies, and a lost answer's retry is recognised.
  return withOp(ctx.writers, (op) => acquireAs(ctx, request, options, label, op));
}

async function acquireAs(
  ctx: SluiceContext,
  request: AcquireRequest,
  options: AcquireOptions,
  label: { product?: string },
  op: WriteOp,
): Promise<AcquireResult> {
  const requested = requestedCosts(request);
  const addresses = Object.keys(requested).map((d) => parseDimension(d));
  const fresh = new Set<string>();
  for (const address of addresses) {
    if ((await itemFor(ctx, address)).fresh) fresh.add(address.pk);
  }
  let targets = await targetsFor(ctx, addresses, requested, fresh);
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
    // Costs follow the definitions as now cached: a conflict may have brought a changed one.
    targets = resolveTargets(ctx, addresses, requested);
    const lease = { idFor: (d: string) => leaseIds.get(d)!, expiresAtMs: nowMs + lifetimeMs };
    const stored = storedTakeFor(items, targets, lease, nowMs, op);
    if (stored) {
      const outcome = await ctx.store.takeStored(stored.take);
      if (outcome.ok) {
        ctx.cache.remember(outcome.item);
        return granted(ctx, targets, stored.leases, nowMs, attempt, label);
      }
      if (outcome.current) ctx.cache.remember(outcome.current);
      else await ctx.cache.refresh(stored.take.pk);
      fresh.add(stored.take.pk);
      attempt++;
      ctx.logger.debug(SluiceLogEvent.acquireContentionRetry, {
        attempt,
        backoff_ms: 0,
        pks: [stored.take.pk],
        ...label,
      });
      continue;
    }
    const plan = planGrant(items, targets, nowMs, lease, op, label.product);
    if (plan.kind === 'deny') {
      // Releases, refunds and upserts add capacity: say no only from a view at most
      // STALE_REFUSAL_MS old (read or written since), reading again at most that often.
      const stale = plan.deniedPks.filter(
        (pk) => !fresh.has(pk) && !ctx.cache.confirmedWithin(pk, STALE_REFUSAL_MS),
      );
      if (stale.length > 0) {
        for (const pk of stale) {
          await ctx.cache.refresh(pk);
          fresh.add(pk);
        }
        continue;
      }
      // A product waiting on a shared bucket marks its demand first (docs/design.md, "Fair shares").
      const unmarked = plan.marks.length === 0 ? [] : await writePlan(ctx, items, plan.marks);
      if (unmarked.length === 0) return retryIn(ctx, plan.waitMs, plan.dimension, label);
      for (const pk of unmarked) fresh.add(pk);
      attempt++;
      continue;
    }
    const conflicted = await writePlan(ctx, items, plan.writes);
    if (conflicted.length === 0)
      return granted(ctx, targets, plan.leases, nowMs, attempt, label, plan.shares);
    for (const pk of conflicted) fresh.add(pk);
    attempt++;
    ctx.logger.debug(SluiceLogEvent.acquireContentionRetry, {
      attempt,
      backoff_ms: 0,
      pks: conflicted,
      ...label,
    });
  }
  const ceiling = Math.min(CONTENTION_MAX_MS, CONTENTION_BASE_MS * 2 ** attempt);
  const backoffMs = Math.max(CONTENTION_MIN_MS, Math.floor(ctx.random() * ceiling));
  ctx.logger.warn(SluiceLogEvent.acquireContentionRetry, {
    attempt,
    backoff_ms: backoffMs,
    dimensions: Object.keys(requested),
    ...label,
  });
  return retryIn(ctx, backoffMs, targets[0]!.address.dimension, label);
}

/**
 * The targets of an acquire, costs resolved on the cached definitions. A cost beyond a cached
 * capacity is checked again on a fresh read before it is refused: the capacity may have been
 * raised since the cache was filled.
 */
async function targetsFor(
  ctx: SluiceContext,
  addresses: readonly DimensionAddress[],
  requested: Readonly<Record<string, number | undefined>>,
  fresh: Set<string>,
): Promise<Target[]> {
  try {
    return resolveTargets(ctx, addresses, requested);
  } catch (error) {
    const stale = addresses.filter((a) => !fresh.has(a.pk));
    if (!isSluiceInputError(error) || stale.length === 0) throw error;
    for (const { pk } of stale) {
      await ctx.cache.refresh(pk);
      fresh.add(pk);
    }
    return resolveTargets(ctx, addresses, requested);
  }
}

function resolveTargets(
  ctx: SluiceContext,
  addresses: readonly DimensionAddress[],
  requested: Readonly<Record<string, number | undefined>>,
): Target[] {
  return addresses.map((address) => {
    const item = ctx.cache.peek(address.pk);
    if (!item) throw unknownDimension(address);
    const bucket = bucketOf(item, address);
    const cost = requested[address.dimension] ?? bucket.costPerCall;
    return {
      address,
      cost,
      costMilli: costToMilli(address.dimension, cost, bucket),
      limitType: bucket.limitType,
    };
  });
}

function granted(
  ctx: SluiceContext,
  targets: readonly Target[],
  leases: readonly PlannedLease[],
  nowMs: number,
  attempt: number,
  label: { product?: string },
  shares: Readonly<Record<string, ShareTake>> = {},
) {
  const grant = makeGrant(ctx, targets, leases, nowMs, shares);
  ctx.logger.info(SluiceLogEvent.acquireGranted, {
    dimensions: targets.map((t) => t.address.dimension),
    costs: grant.costs,
    lease_ids: leases.map((l) => l.leaseId),
    attempt,
    ...label,
    ...(grant.shares ? { shares: grant.shares } : {}),
  });
  return grant;
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

function retryIn(
  ctx: SluiceContext,
  waitMs: number,
  dimension: string,
  label: { product?: string },
): RetryIn {
  const waitSeconds = waitMs / 1000;
  ctx.logger.info(SluiceLogEvent.acquireRetryIn, { dimension, wait_seconds: waitSeconds, ...label });
  return { outcome: 'RetryIn', waitSeconds, dimension };
}

/** Lease ids come from the injected randomness, so simulations are reproducible. */
export function newLeaseId(ctx: SluiceContext): string {
  const part = () =>
    Math.floor(ctx.random() * 2 ** 32)
      .toString(36)
      .padStart(7, '0');
  return `${part()}${part()}`;
}
