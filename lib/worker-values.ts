import { SLOT_MARGIN_SECONDS } from '../lambda/contract';
import { bucketName, countsTokens, type LimitType } from '../lambda/sluice';
import type { VendorSettings } from '../lambda/worker-settings';

/**
 * Values the worker receives that need only part of the stack configuration: the validation
 * rules (config-rules.ts, sizing.ts) check them before a whole StackConfig exists, and
 * derived-settings.ts puts them in the worker's environment. Both import this module, so the
 * configuration and what is derived from it depend on each other one way only.
 */

/** Lambda timeout − SLOT_MARGIN_SECONDS: the longest a worker holds capacity per message. */
export function slotTimeoutFor(lambdaTimeoutSeconds: number): number {
  return lambdaTimeoutSeconds - SLOT_MARGIN_SECONDS;
}

type BucketKinds = { readonly buckets: readonly { dimension: string; limitType: LimitType }[] };

/**
 * The buckets whose limit type counts tokens (the SDK's `countsTokens`), as `vendor#metric` (a
 * keyed template without its `#*`): the worker prices a message's token estimate on them.
 */
export function tokenDimensions(config: BucketKinds): string[] {
  return config.buckets
    .filter((bucket) => countsTokens(bucket.limitType))
    .map((bucket) => bucketName(bucket.dimension));
}

/** What `SLUICE_VENDOR_SETTINGS` carries: the vendor settings and the tokens dimensions. */
export function workerVendorSettings(
  config: { readonly vendor: Omit<VendorSettings, 'tokenDimensions'> } & BucketKinds,
): VendorSettings {
  return { ...config.vendor, tokenDimensions: tokenDimensions(config) };
}
