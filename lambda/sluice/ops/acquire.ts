import { refill, settle } from '../core/bucket-math';
import { costToMilli, type DimensionAddress, parseDimension, requestedCosts } from '../core/dimensions';
import { leaseLifetimeMs } from '../core/leases';
import { holdsLeases } from '../core/limit-types';
import type { BucketItem, BucketState } from '../core/model';
import { type PlannedLease, planGrant, type Target } from '../core/plan/grant-plan';
import { betsOnContendedView, scarceUnderContention } from '../core/plan/refusal-evidence';
import { storedTakeFor } from '../core/plan/stored-take-plan';
import type { ShareTake } from '../core/shares';
import type { AcquireRequest, AcquireResult, RetryIn } from '../core/types';
import { type WriterLane, withOp } from '../core/writer-lanes';
import { applyWrite, type BucketWrite, type StoredTake } from '../core/writes';
import { isSluiceInputError, SluiceStoreError } from '../errors';
import { type AcquireOptions, productField } from './acquire-options';
import type { SluiceContext } from './context';
import { makeGrant } from './grant';
import { bucketOf, itemFor, unknownDimension } from './items';
import { SluiceLogEvent } from './log-events';
import { mutateItem } from './mutate';
import { acquireFromSlice } from './slices';

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
/** Rounds of `mutateItem` (each of several conditional writes) a give-back may take under contention. */
const UNDO_ROUNDS = 20;
/** How many times one acquire waits for this client's own writes in flight before it writes beside them. */
const OWN_WRITE_WAITS = 8;

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
  refusal: RefusalBasis = 'recent',
): Promise<AcquireResult> {
  // Checked before any bucket is touched.
  const label = productField(options);
  // One op for every attempt: at most one attempt applies, and a lost answer's retry is
  // recognised. After a give-back (`undoTakes`) the next attempt takes the lane's next op: the
  // item still holds the given-back write's op, which must not pass for the next one applied.
  const lane = ctx.writers.take();
  try {
    return await acquireAs(ctx, request, options, label, lane, refusal);
  } finally {
    ctx.writers.give(lane);
  }
}

/**
 * What a refusal may be computed from: `recent`, a view at most `STALE_REFUSAL_MS` old;
 * `fresh`, only a view read or written by this acquire (what `slot` asks for before it gives up).
 */
export type RefusalBasis = 'recent' | 'fresh';

/**
 * Refusals computed from a cached view this acquire neither read nor wrote: the table may hold
 * more by now (a refund, a release), so `slot` reads once before it gives up on one.
 */
export const refusedFromCache = new WeakSet<RetryIn>();

async function acquireAs(
  ctx: SluiceContext,
  request: AcquireRequest,
  options: AcquireOptions,
  label: { product?: string },
  lane: WriterLane,
  refusal: RefusalBasis,
): Promise<AcquireResult> {
  let op = lane.nextOp();
  // Every attempt's take may be placed from this instant on (storedTakeFor's `sinceMs`): the
  // acquire's start, before any read, so callers that arrive together all share the refill of
  // whichever of them writes first.
  const sinceMs = ctx.clock();
  const requested = requestedCosts(request);
  const addresses = Object.keys(requested).map((d) => parseDimension(d));
  const fresh = new Set<string>();
  for (const address of addresses) {
    if ((await itemFor(ctx, address)).fresh) fresh.add(address.pk);
  }
  let targets = await targetsFor(ctx, addresses, requested, fresh);
  const sliced = slicedTarget(ctx, targets);
  if (sliced) {
    const staleAfterMs = refusal === 'fresh' ? -1 : STALE_REFUSAL_MS;
    const answer = await acquireFromSlice(ctx, sliced, op, fresh, staleAfterMs, () => newLeaseId(ctx));
    if (answer.kind === 'granted') return granted(ctx, targets, [], answer.nowMs, 0, label);
    if (answer.kind === 'wait') return retryIn(ctx, answer.waitMs, sliced.address.dimension, label);
  }
  const leaseIds = new Map(targets.map((t) => [t.address.dimension, newLeaseId(ctx)]));
  const lifetimeMs = leaseLifetimeMs(ctx.settings, options.leaseTtlSeconds);
  let attempt = 0;
  let ownWaits = 0;
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
    // A write on a near-empty view of an item others take from is a bet that usually fails: it
    // is read first, and the fresh item grants or refuses without a failed write (core/plan/refusal-evidence.ts).
    const unseen = [...items.values()].filter((item) => {
      const confirmedAtMs = ctx.cache.confirmedAt(item.pk);
      return (
        !fresh.has(item.pk) &&
        confirmedAtMs !== undefined &&
        betsOnContendedView(item, targets, confirmedAtMs, nowMs, ctx.writers.clientId)
      );
    });
    if (unseen.length > 0) {
      for (const { pk } of unseen) {
        await ctx.cache.refresh(pk);
        fresh.add(pk);
      }
      continue;
    }
    const lease = { idFor: (d: string) => leaseIds.get(d)!, expiresAtMs: nowMs + lifetimeMs };
    const stored = storedTakeFor(items, targets, lease, nowMs, op, sinceMs);
    // Callers of one client (a pool's records) arriving together: beside a write of this client
    // still in flight on the item, a versioned write is sure to fail its condition, and so is a
    // take from a full bucket (its guard wants the tokens at capacity) and one from stored tokens
    // that the writes in flight use up. Waiting for those answers (the cache then holds what
    // they wrote) costs a round trip; the failed write would have cost one and a write unit.
    const own = ctx.cache.inFlight(items.keys());
    if (
      own.length > 0 &&
      ownWaits < OWN_WRITE_WAITS &&
      !(stored && commutesBeside(stored.take, items, own.length))
    ) {
      ownWaits++;
      await Promise.allSettled(own);
      continue;
    }
    if (stored) {
      const outcome = await ctx.cache.writingTo(stored.take.pk, () => ctx.store.takeStored(stored.take));
      if (outcome.ok) {
        ctx.cache.remember(outcome.item);
        return granted(ctx, targets, stored.leases, nowMs, attempt, label);
      }
      if (outcome.current) ctx.cache.remember(outcome.current);
      else await ctx.cache.refresh(stored.take.pk);
      fresh.add(stored.take.pk);
      attempt++;
      if (steppingBack(ctx, [stored.take.pk], targets)) break;
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
      const staleAfterMs = refusal === 'fresh' ? -1 : STALE_REFUSAL_MS;
      const stale = plan.deniedPks.filter(
        (pk) => !fresh.has(pk) && !ctx.cache.confirmedWithin(pk, staleAfterMs),
      );
      if (stale.length > 0) {
        for (const pk of stale) {
          await ctx.cache.refresh(pk);
          fresh.add(pk);
        }
        continue;
      }
      // A product waiting on a shared bucket marks its demand first (docs/design.md, "Fair shares").
      const { conflicted: unmarked } =
        plan.marks.length === 0 ? { conflicted: [] } : await writePlan(ctx, items, plan.marks, [], []);
      if (unmarked.length === 0) {
        const answer = retryIn(ctx, plan.waitMs, plan.dimension, label);
        if (plan.deniedPks.some((pk) => !fresh.has(pk))) refusedFromCache.add(answer);
        return answer;
      }
      for (const pk of unmarked) fresh.add(pk);
      attempt++;
      continue;
    }
    const { conflicted, gaveBack } = await writePlan(ctx, items, plan.writes, targets, plan.leases);
    if (conflicted.length === 0)
      return granted(ctx, targets, plan.leases, nowMs, attempt, label, plan.shares);
    if (gaveBack) op = lane.nextOp();
    for (const pk of conflicted) fresh.add(pk);
    attempt++;
    if (steppingBack(ctx, conflicted, targets)) break;
    ctx.logger.debug(SluiceLogEvent.acquireContentionRetry, {
      attempt,
      backoff_ms: 0,
      pks: conflicted,
      ...label,
    });
  }
  const ceiling = Math.min(CONTENTION_MAX_MS, CONTENTION_BASE_MS * 2 ** attempt);
  const backoffMs = Math.max(CONTENTION_MIN_MS, Math.floor(ctx.random() * ceiling));
  // Stepping back from a near-empty bucket others are taking from is its normal state (debug);
  // conflicts that used up every retry on a bucket with tokens to spare are worth a warning.
  const log = attempt <= ctx.settings.maxRetries ? ctx.logger.debug : ctx.logger.warn;
  log.call(ctx.logger, SluiceLogEvent.acquireContentionRetry, {
    attempt,
    backoff_ms: backoffMs,
    dimensions: Object.keys(requested),
    ...label,
  });
  return retryIn(ctx, backoffMs, targets[0]!.address.dimension, label);
}

/**
 * Whether a take from stored tokens still holds beside `inFlight` takes of about the same cost
 * that this client has sent and not heard back from: none of its guards wants the bucket full,
 * and the stored tokens, as cached, cover them all.
 */
function commutesBeside(take: StoredTake, items: ReadonlyMap<string, BucketItem>, inFlight: number): boolean {
  const item = items.get(take.pk);
  return take.takes.every(({ metric, costMilli, guard }) => {
    const bucket = item?.buckets[metric];
    return guard.kind !== 'full' && bucket !== undefined && bucket.tokensMilli >= costMilli * (inFlight + 1);
  });
}

/**
 * After a conflict: whether a conflicted item, as handed back, is too scarce to race for at
 * once (core/plan/refusal-evidence.ts, `scarceUnderContention`); the acquire then ends in a jittered
 * RetryIn instead of another write that would likely fail.
 */
function steppingBack(
  ctx: SluiceContext,
  conflicted: readonly string[],
  targets: readonly Target[],
): boolean {
  const nowMs = ctx.clock();
  return conflicted.some((pk) => {
    const item = ctx.cache.peek(pk);
    return item !== undefined && scarceUnderContention(item, targets, nowMs, ctx.writers.clientId);
  });
}

/** The one target of an acquire of one sliced time bucket (leases for hot buckets), if it is one. */
function slicedTarget(ctx: SluiceContext, targets: readonly Target[]): Target | undefined {
  if (targets.length !== 1) return undefined;
  const [target] = targets;
  const bucket = ctx.cache.peek(target!.address.pk)?.buckets[target!.address.metric];
  return bucket?.slicing && !holdsLeases(bucket.limitType) ? target : undefined;
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

/**
 * Writes the plan; on a conflict refreshes the cache (from ALL_OLD, else one read) and returns
 * the pks that conflicted. Several items are written one conditional write at a time rather
 * than in a transaction, which DynamoDB bills twice per item: a grant over two items costs 2
 * WCU, not 4. A refusal on a later item gives back what the earlier ones took (`undoTakes`), so
 * the grant stays all or nothing; meanwhile the earlier items hold less than they may, which
 * can only refuse someone else early, never grant beyond a limit.
 */
async function writePlan(
  ctx: SluiceContext,
  items: ReadonlyMap<string, BucketItem>,
  writes: readonly BucketWrite[],
  targets: readonly Target[],
  leases: readonly PlannedLease[],
): Promise<{ readonly conflicted: string[]; readonly gaveBack: boolean }> {
  const applied: BucketWrite[] = [];
  for (const write of writes) {
    const outcome = await ctx.cache.writingTo(write.pk, () => ctx.store.write(write));
    if (outcome.ok) {
      ctx.cache.remember(applyWrite(items.get(write.pk)!, write));
      applied.push(write);
      continue;
    }
    if (outcome.current) ctx.cache.remember(outcome.current);
    else await ctx.cache.refresh(write.pk);
    if (applied.length > 0) await undoTakes(ctx, applied, targets, leases);
    return { conflicted: [write.pk], gaveBack: applied.length > 0 };
  }
  return { conflicted: [], gaveBack: false };
}

/**
 * Gives back what a grant refused on a later item took from the items already written: each
 * time bucket its cost, each concurrent bucket its lease with its units.
 * One versioned write per item under an op of its own, recomputed on the item as it is after
 * a conflict (`mutateItem`).
 */
async function undoTakes(
  ctx: SluiceContext,
  applied: readonly BucketWrite[],
  targets: readonly Target[],
  leases: readonly PlannedLease[],
): Promise<void> {
  for (const { pk } of applied) {
    const onItem = targets.filter((t) => t.address.pk === pk);
    await untilThrough(() => giveBack(ctx, pk, onItem, leases));
  }
}

/**
 * A give-back contends with every grant on its item; it is not given up on contention (what
 * it returns would stay taken until refill), only on a store that fails.
 */
async function untilThrough(write: () => Promise<void>): Promise<void> {
  for (let round = 1; ; round++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof SluiceStoreError && error.reason === 'contended') || round >= UNDO_ROUNDS)
        throw error;
    }
  }
}

function giveBack(
  ctx: SluiceContext,
  pk: string,
  onItem: readonly Target[],
  leases: readonly PlannedLease[],
): Promise<void> {
  return withOp(ctx.writers, (op) =>
    mutateItem(
      ctx,
      pk,
      (item, nowMs) => {
        const buckets: Record<string, BucketState> = {};
        for (const target of onItem) {
          const bucket = item?.buckets[target.address.metric];
          if (!bucket) continue;
          const lease = leases.find((l) => l.address.dimension === target.address.dimension);
          if (lease) {
            if (!bucket.leases[lease.leaseId]) continue;
            const { [lease.leaseId]: _returned, ...kept } = bucket.leases;
            buckets[target.address.metric] = {
              ...bucket,
              leases: kept,
              tokensMilli: Math.min(bucket.capacityMilli, bucket.tokensMilli + lease.costMilli),
            };
          } else {
            // The whole cost, capped at capacity (debt first): what the bucket would hold had
            // it never been taken from, since refill meanwhile is capped the same way.
            buckets[target.address.metric] = settle(refill(bucket, nowMs), target.costMilli, 0, 0);
          }
        }
        return Object.keys(buckets).length > 0
          ? { write: { buckets }, result: undefined }
          : { result: undefined };
      },
      { op },
    ),
  );
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
