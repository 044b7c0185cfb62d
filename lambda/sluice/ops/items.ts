import { fullBucket } from '../core/bucket-math';
import type { DimensionAddress } from '../core/dimensions';
import type { BucketDefinitionState, BucketItem, BucketState } from '../core/model';
import { SluiceInputError, SluiceStoreError } from '../errors';
import type { SluiceContext } from './context';

/** The items that hold the dimensions an operation names: found in the cache, read, or created from a template. */

export function unknownDimension(address: DimensionAddress): SluiceInputError {
  const definition = address.key === undefined ? address.dimension : `${address.vendor}#${address.metric}#*`;
  return new SluiceInputError(
    `unknown dimension ${address.dimension}: no bucket definition ${definition} in the table (upsert it first)`,
  );
}

/**
 * The item holding `address`'s bucket, loaded (and for a key on first use, created from its
 * template with full tokens). Refreshes once before declaring a dimension unknown, since the
 * cache may predate an upsert.
 */
export async function itemFor(
  ctx: SluiceContext,
  address: DimensionAddress,
): Promise<{ item: BucketItem; fresh: boolean }> {
  let { item, fresh } = await ctx.cache.load(address.pk);
  if (!item?.buckets[address.metric] && !fresh) {
    item = await ctx.cache.refresh(address.pk);
    fresh = true;
  }
  if (item?.buckets[address.metric]) return { item, fresh };
  if (address.key === undefined) throw unknownDimension(address);
  // Created only while the template is still the one it was made from: a cache older than a
  // template upsert meets the fresh template and tries again with it.
  for (let attempt = 0; attempt < KEY_CREATE_ATTEMPTS; attempt++) {
    const template = await templateFor(ctx, address);
    const created: BucketItem = {
      pk: address.pk,
      version: 1,
      buckets: { [address.metric]: fullBucket(template, ctx.clock()) },
      templates: {},
      writers: {},
    };
    const outcome = await ctx.store.create(created, {
      pk: address.vendor,
      metric: address.metric,
      definition: template,
    });
    if (!outcome.ok && 'templateItem' in outcome) {
      ctx.cache.remember(outcome.templateItem, address.vendor);
      continue;
    }
    const winner = outcome.ok ? created : (outcome.current ?? (await ctx.cache.refresh(address.pk)));
    if (!winner?.buckets[address.metric]) throw unknownDimension(address);
    ctx.cache.remember(winner);
    return { item: winner, fresh: true };
  }
  throw new SluiceStoreError(
    `the template of ${address.dimension} kept changing while its key was created; giving up`,
    'contended',
  );
}

const KEY_CREATE_ATTEMPTS = 3;

async function templateFor(ctx: SluiceContext, address: DimensionAddress): Promise<BucketDefinitionState> {
  const cached = ctx.cache.peek(address.vendor)?.templates[address.metric];
  if (cached) return cached;
  const template = (await ctx.cache.refresh(address.vendor))?.templates[address.metric];
  if (!template) throw unknownDimension(address);
  return template;
}

export function bucketOf(item: BucketItem, address: DimensionAddress): BucketState {
  const bucket = item.buckets[address.metric];
  if (!bucket) throw unknownDimension(address);
  return bucket;
}
