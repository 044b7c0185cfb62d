import type { BucketDefinition } from '../lambda/sluice';

/**
 * The products of a stack configuration and their shares of the vendor's limits
 * (docs/design.md, "Fair shares"): what the seeding writes into every time bucket, so that the
 * worker and every direct SDK caller naming its product are admitted by the same shares.
 */

export const PRODUCT_PRIORITIES = ['interactive', 'batch'] as const;
export type ProductPriority = (typeof PRODUCT_PRIORITIES)[number];

/** One product as the configuration gives it, defaults applied. */
export interface ProductPolicy {
  readonly name: string;
  /** Its reserved share of every time bucket, in (0, 1]; undefined: none reserved (it uses the common rest). */
  readonly share: number | undefined;
  /** `interactive` records go first within a batch of messages (docs/worker.md, "Fair shares"). */
  readonly priority: ProductPriority;
  /** Longest wait of its oldest message before its alarm fires; undefined: no alarm of its own. */
  readonly maxWaitSeconds: number | undefined;
}

/** What a `products` entry may be: a name (equal shares) or an object. */
export type ProductEntry =
  | string
  | {
      readonly name: string;
      readonly share?: number | undefined;
      readonly priority?: ProductPriority | undefined;
      readonly maxWaitSeconds?: number | undefined;
    };

/**
 * The policies of the configured products: when no entry gives a share, each product has an
 * equal share (1/n, to the permille, rounded down); when some do, only those are reserved and
 * the others use the common rest.
 */
export function productPolicies(entries: readonly ProductEntry[]): ProductPolicy[] {
  const objects = entries.map((e) => (typeof e === 'string' ? { name: e } : e));
  const anyShare = objects.some((o) => o.share !== undefined);
  const equal = objects.length > 0 ? Math.floor(1000 / objects.length) / 1000 : 0;
  return objects.map((o) => ({
    name: o.name,
    share: anyShare ? o.share : equal,
    priority: o.priority ?? 'interactive',
    maxWaitSeconds: o.maxWaitSeconds,
  }));
}

/** The shares as a bucket definition takes them; undefined when no product reserves any. */
export function bucketShares(policies: readonly ProductPolicy[]): Record<string, number> | undefined {
  const shares = Object.fromEntries(
    policies.filter((p) => p.share !== undefined).map((p) => [p.name, p.share as number]),
  );
  return Object.keys(shares).length > 0 ? shares : undefined;
}

/** The bucket definitions to seed: every time bucket carries the products' shares; concurrent ones have none. */
export function seededBuckets(
  buckets: readonly BucketDefinition[],
  policies: readonly ProductPolicy[],
): BucketDefinition[] {
  const shares = bucketShares(policies);
  return buckets.map((bucket) =>
    shares === undefined || bucket.limitType === 'concurrent' ? bucket : { ...bucket, shares },
  );
}
