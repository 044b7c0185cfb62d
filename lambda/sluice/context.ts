import { SLOT_MARGIN_SECONDS } from '../contract';
import { fullBucket } from './bucket-math';
import type { SluiceSettings } from './config';
import type { DimensionAddress } from './dimensions';
import { SluiceInputError, SluiceStoreError } from './errors';
import type { SluiceLogger } from './logger';
import type { BucketDefinitionState, BucketItem, BucketState } from './model';
import type { BucketStore } from './store';
import type { WriterLanes } from './writer-lanes';

/** Everything the operations share: settings, the store, injected time and randomness, the cache. */
export interface SluiceContext {
  readonly settings: SluiceSettings;
  readonly store: BucketStore;
  readonly clock: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly logger: SluiceLogger;
  readonly cache: ItemCache;
  /** The op every mutating write carries, so a repeat of an applied write is recognised. */
  readonly writers: WriterLanes;
}

/**
 * The last item seen per pk. For time buckets a stale item is a safe basis for a denial
 * (others only take); a write conditioned on its version catches every change since.
 */
export class ItemCache {
  private readonly items = new Map<string, BucketItem>();
  /** When each item was last seen as the store holds it (read, written, or handed back by a conflict). */
  private readonly confirmedAtMs = new Map<string, number>();

  constructor(
    private readonly store: BucketStore,
    private readonly clock: () => number,
  ) {}

  peek(pk: string): BucketItem | undefined {
    return this.items.get(pk);
  }

  remember(item: BucketItem | undefined, pk?: string): void {
    if (item) {
      this.items.set(item.pk, item);
      this.confirmedAtMs.set(item.pk, this.clock());
    } else if (pk !== undefined) {
      this.items.delete(pk);
      this.confirmedAtMs.delete(pk);
    }
  }

  /** Whether the cached item was confirmed at most `ms` ago. */
  confirmedWithin(pk: string, ms: number): boolean {
    const at = this.confirmedAtMs.get(pk);
    return at !== undefined && this.clock() - at <= ms;
  }

  /** One consistent GetItem, and the cache takes the answer. */
  async refresh(pk: string): Promise<BucketItem | undefined> {
    const item = await this.store.get(pk);
    this.remember(item, pk);
    return item;
  }

  async load(pk: string): Promise<{ item: BucketItem | undefined; fresh: boolean }> {
    const cached = this.items.get(pk);
    if (cached) return { item: cached, fresh: false };
    return { item: await this.refresh(pk), fresh: true };
  }
}

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

/** A lease outlives the slot deadline plus the margin, so reconcile never takes a running holder's slot. */
export function leaseLifetimeMs(settings: SluiceSettings, leaseTtlSeconds?: number): number {
  const ttl = leaseTtlSeconds ?? settings.leaseTtlSeconds;
  return Math.ceil(Math.max(ttl, settings.defaultSlotTimeoutSeconds + SLOT_MARGIN_SECONDS) * 1000);
}
