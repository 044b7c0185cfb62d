import {
  fullBucket,
  penalize as penalizeBucket,
  redefine,
  refill,
  resync as resyncBucket,
} from '../core/bucket-math';
import { type DimensionAddress, definitionState, parseDimension } from '../core/dimensions';
import { holdsLeases } from '../core/limit-types';
import {
  type BucketDefinitionState,
  type BucketItem,
  type BucketState,
  FULL_RATE_PERMILLE,
  MILLI,
} from '../core/model';
import { rateScaleAt } from '../core/rate-scale';
import { refillWithShares } from '../core/shares';
import type { BucketDefinition, BucketSnapshot, PenalizeOptions, PenaltyResult } from '../core/types';
import { withOp } from '../core/writer-lanes';
import { SluiceInputError } from '../errors';
import type { SluiceContext } from './context';
import { bucketOf, itemFor, unknownDimension } from './items';
import { SluiceLogEvent } from './log-events';
import { mutateItem } from './mutate';

export async function penalize(
  ctx: SluiceContext,
  dimension: string,
  factor = 0.8,
  options: PenalizeOptions = {},
): Promise<PenaltyResult> {
  if (typeof factor !== 'number' || !(factor > 0 && factor <= 1)) {
    throw new SluiceInputError(`penalize factor for ${dimension} must be in (0, 1] (got ${factor})`);
  }
  const { holdSeconds = 0, statedLimitPerSecond } = options;
  if (
    statedLimitPerSecond !== undefined &&
    !(
      typeof statedLimitPerSecond === 'number' &&
      Number.isFinite(statedLimitPerSecond) &&
      statedLimitPerSecond > 0
    )
  ) {
    throw new SluiceInputError(
      `penalize statedLimitPerSecond for ${dimension} must be a number > 0 (got ${statedLimitPerSecond})`,
    );
  }
  if (typeof holdSeconds !== 'number' || !Number.isFinite(holdSeconds) || holdSeconds < 0) {
    throw new SluiceInputError(
      `penalize holdSeconds for ${dimension} must be a number >= 0 (got ${holdSeconds})`,
    );
  }
  const address = parseDimension(dimension);
  const { item } = await itemFor(ctx, address);
  const timeBucket = (bucket: BucketState) => {
    if (holdsLeases(bucket.limitType)) {
      throw new SluiceInputError(
        `penalize does not apply to ${dimension}: it is a concurrent bucket (it has no refill to heal it)`,
      );
    }
    return bucket;
  };
  timeBucket(bucketOf(item, address));
  const result = await withOp(ctx.writers, (op) =>
    mutateItem(
      ctx,
      address.pk,
      (current, nowMs) => {
        // Checked again on the item written: a cache older than an upsert may hold another type.
        const before = refillWithShares(timeBucket(bucketOf(current ?? item, address)), nowMs);
        const stated = statedPermille(before, statedLimitPerSecond);
        const after = penalizeBucket(before, factor, nowMs, holdSeconds * 1000, stated);
        const result: PenaltyResult = {
          dimension,
          factor,
          tokensBefore: before.tokensMilli / MILLI,
          tokensAfter: after.tokensMilli / MILLI,
          rateScaleBefore: rateScaleAt(before, after.rateScaleAtMs) / FULL_RATE_PERMILLE,
          rateScaleAfter: after.rateScalePermille / FULL_RATE_PERMILLE,
          rateCeilingAfter: after.rateCeilingPermille / FULL_RATE_PERMILLE,
          ...(after.holdUntilMs ? { holdUntilMs: after.holdUntilMs } : {}),
          ...(stated === undefined
            ? {}
            : { statedLimit: stated >= rateScaleAt(before, nowMs) ? 'timing' : 'ceiling' }),
        };
        return { write: { buckets: { [address.metric]: after } }, result };
      },
      { op },
    ),
  );
  ctx.logger.info(SluiceLogEvent.penalizeApplied, {
    dimension,
    factor,
    tokens_before: result.tokensBefore,
    tokens_after: result.tokensAfter,
    rate_scale_before: result.rateScaleBefore,
    rate_scale_after: result.rateScaleAfter,
    rate_ceiling_after: result.rateCeilingAfter,
    hold_until_ms: result.holdUntilMs,
    ...(result.statedLimit === undefined
      ? {}
      : { stated_limit_per_second: statedLimitPerSecond, stated_limit: result.statedLimit }),
  });
  return result;
}

/**
 * A rate the vendor states, in permille of the bucket's configured rate (`capacityMilli` per
 * `windowMs` is units per second): `stated · windowMs / capacityMilli · 1000`, to the nearest
 * permille (500 a minute stated, a bucket of 499 per 59.88 s: 1000, not 999 from float noise).
 */
function statedPermille(bucket: BucketState, statedPerSecond: number | undefined): number | undefined {
  if (statedPerSecond === undefined || bucket.windowMs <= 0 || bucket.capacityMilli <= 0) return undefined;
  return Math.round((statedPerSecond * bucket.windowMs * FULL_RATE_PERMILLE) / bucket.capacityMilli);
}

/** The vendor's `x-ratelimit-remaining`: tokens drop to at most that, never rise. */
export async function resync(ctx: SluiceContext, dimension: string, remainingUnits: number): Promise<void> {
  if (typeof remainingUnits !== 'number' || !Number.isFinite(remainingUnits) || remainingUnits < 0) {
    throw new SluiceInputError(`resync of ${dimension} needs remaining units >= 0 (got ${remainingUnits})`);
  }
  const address = parseDimension(dimension);
  const { item } = await itemFor(ctx, address);
  const timeBucket = (bucket: BucketState) => {
    if (holdsLeases(bucket.limitType)) {
      throw new SluiceInputError(`resync does not apply to ${dimension}: it is a concurrent bucket`);
    }
    return bucket;
  };
  timeBucket(bucketOf(item, address));
  const remainingMilli = Math.floor(remainingUnits * MILLI);
  await withOp(ctx.writers, (op) =>
    mutateItem(
      ctx,
      address.pk,
      (current, nowMs) => {
        const before = refillWithShares(timeBucket(bucketOf(current ?? item, address)), nowMs);
        const after = resyncBucket(before, remainingMilli);
        return after === before
          ? { result: undefined }
          : { write: { buckets: { [address.metric]: after } }, result: undefined };
      },
      { op },
    ),
  );
}

export async function snapshot(ctx: SluiceContext, dimension: string): Promise<BucketSnapshot> {
  const address = parseDimension(dimension);
  const nowMs = ctx.clock();
  const item = await ctx.cache.refresh(address.pk);
  let stored = item?.buckets[address.metric];
  if (!stored && address.key !== undefined) {
    // A key not used yet reads as full from its template; looking must not create it.
    const template = (await ctx.cache.refresh(address.vendor))?.templates[address.metric];
    if (template) stored = fullBucket(template, nowMs);
  }
  if (!stored) throw unknownDimension(address);
  const bucket = refill(stored, nowMs);
  return {
    dimension,
    limitType: bucket.limitType,
    capacity: bucket.capacityMilli / MILLI,
    // capacity / window seconds: (capacityMilli / 1000) / (windowMs / 1000), one division.
    refillPerSecond: bucket.windowMs > 0 ? bucket.capacityMilli / bucket.windowMs : 0,
    tokens: (bucket.tokensMilli - bucket.debtMilli) / MILLI,
    debt: bucket.debtMilli / MILLI,
    leases: Object.keys(bucket.leases).length,
    rateScale: rateScaleAt(bucket, nowMs) / FULL_RATE_PERMILLE,
  };
}

/**
 * Definitions change, live state stays. Unkeyed dimensions update `buckets.<m>` of the vendor
 * item; keyed ones update `templates.<m>` and then every existing key item of that dimension
 * (found by a scan: upserts run at deploy time, not on the hot path). A definition of one key
 * (`v#m#key`) is that key's own: kept in its item's `templates.<m>` too, and a later template
 * upsert leaves it alone.
 */
export async function upsertBuckets(
  ctx: SluiceContext,
  definitions: readonly BucketDefinition[],
): Promise<void> {
  const parsed = definitions.map((d) => ({
    address: parseDimension(d.dimension, true),
    state: definitionState(d),
  }));
  const byPk = new Map<string, { address: DimensionAddress; state: BucketDefinitionState }[]>();
  for (const entry of parsed) byPk.set(entry.address.pk, [...(byPk.get(entry.address.pk) ?? []), entry]);
  for (const [pk, entries] of byPk) {
    // An op per item written: one upsert may write a key item twice (its own definition, then its template's).
    await withOp(ctx.writers, (op) =>
      mutateItem(
        ctx,
        pk,
        (item, nowMs) => {
          const buckets: Record<string, BucketState> = {};
          const templates: Record<string, BucketDefinitionState> = {};
          for (const { address, state } of entries) {
            if (address.key === '*') templates[address.metric] = state;
            else {
              const existing = item?.buckets[address.metric];
              buckets[address.metric] = existing
                ? redefine(refillWithShares(existing, nowMs), state)
                : fullBucket(state, nowMs);
              if (address.key !== undefined) templates[address.metric] = state; // this key's own
            }
          }
          if (!item)
            return { create: { pk, version: 1, buckets, templates, writers: {} }, result: undefined };
          return { write: { buckets, templates }, result: undefined };
        },
        { fresh: true, op },
      ),
    );
  }
  const keyed = parsed.filter((p) => p.address.key === '*');
  if (keyed.length > 0) await redefineKeyInstances(ctx, keyed);
}

async function redefineKeyInstances(
  ctx: SluiceContext,
  keyed: { address: DimensionAddress; state: BucketDefinitionState }[],
) {
  let cursor: string | undefined;
  do {
    const page = await ctx.store.scan(cursor);
    for (const { pk, error } of page.undecodable ?? []) {
      // Not redefined; it keeps its old definition until it is readable again.
      ctx.logger.error('upsert.item_undecodable', { pk, error });
    }
    // Bucket items written before the sweep index: the pass that reads them all anyway puts
    // them in it, so the reconciler reaches even one nobody writes again (a lease leaked there).
    for (const pk of page.unmarked ?? []) await ctx.store.markForSweep(pk);
    for (const item of page.items) {
      const match = keyed.find((k) => item.pk.startsWith(`${k.address.vendor}#${k.address.metric}#`));
      if (match) await redefineInstance(ctx, item, match.address.metric, match.state);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}

function redefineInstance(
  ctx: SluiceContext,
  seen: BucketItem,
  metric: string,
  state: BucketDefinitionState,
) {
  ctx.cache.remember(seen);
  return withOp(ctx.writers, (op) =>
    mutateItem(
      ctx,
      seen.pk,
      (item, nowMs) => {
        const existing = item?.buckets[metric];
        // A key with its own definition (upserted as v#m#key) keeps it.
        if (!existing || item?.templates[metric]) return { result: undefined };
        return {
          write: { buckets: { [metric]: redefine(refillWithShares(existing, nowMs), state) } },
          result: undefined,
        };
      },
      { op },
    ),
  );
}
