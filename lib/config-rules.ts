import { CIRCUIT_KEY_PREFIX } from '../lambda/circuit/store';
import { SLOT_MARGIN_SECONDS } from '../lambda/contract';
import { IDEMPOTENCY_KEY_PREFIX } from '../lambda/idempotency/store';
import type { LimitType } from '../lambda/sluice';
import { PolicySchema, type VendorSettings } from '../lambda/worker-settings';
import { slotTimeoutFor, workerVendorSettings } from './worker-values';

/**
 * Rules that span several fields of the stack configuration. Each rule is a small pure
 * function returning problems; the schema in config.ts turns them into issues so that
 * they are reported together with every field-level problem.
 */

export interface Problem {
  readonly path: (string | number)[];
  readonly message: string;
  /** The value at `path` says nothing useful (e.g. the cost of an unknown dimension). */
  readonly omitValue?: boolean;
}

interface BucketLike {
  readonly dimension: string;
  readonly limitType: LimitType;
  readonly capacity: number;
  readonly windowSeconds?: number | undefined;
  readonly costPerCall?: number | undefined;
}

/**
 * Shortest Lambda timeout: the slot (timeout − 5 s) must leave room for a vendor call. The
 * slot must also be longer than the inline retry threshold, so with the default threshold
 * of 5 s the shortest timeout that passes is 11 s (docs/deploy.md says both).
 */
export const MIN_LAMBDA_TIMEOUT_SECONDS = 10;
const DEFAULT_INLINE_RETRY_THRESHOLD_SECONDS = PolicySchema.parse({}).inlineRetryThresholdSeconds;

/** Lambda allows 4 KB of environment variables in total; the vendor settings are the big one. */
export const MAX_VENDOR_SETTINGS_BYTES = 3_000;

export function bucketProblems(buckets: readonly BucketLike[], vendor: VendorSettings): Problem[] {
  return [
    ...buckets.flatMap((bucket, index) => bucketShapeProblems(bucket, index)),
    ...duplicateDimensions(buckets),
    ...operationProblems(buckets, vendor),
  ];
}

/**
 * Vendor names the table's other records are keyed under (`idem#…`, `circuit#…`): a bucket named
 * after one would share their key prefix, which grantAcquire's `dynamodb:LeadingKeys` condition
 * keeps SDK callers away from.
 */
export const RESERVED_VENDOR_NAMES: readonly string[] = [IDEMPOTENCY_KEY_PREFIX, CIRCUIT_KEY_PREFIX].map(
  (p) => p.replace(/#$/, ''),
);

function bucketShapeProblems(bucket: BucketLike, index: number): Problem[] {
  const at = (field: string) => ['buckets', index, field];
  const problems: Problem[] = [];
  const vendor = bucket.dimension.split('#')[0] ?? '';
  if (RESERVED_VENDOR_NAMES.includes(vendor)) {
    problems.push({
      path: at('dimension'),
      message: `must not name the vendor "${vendor}": the bucket table keys its own records under "${vendor}#"`,
    });
  }
  if (bucket.limitType === 'concurrent' && bucket.windowSeconds !== undefined) {
    problems.push({
      path: at('windowSeconds'),
      message: 'must be omitted for limitType concurrent (no refill)',
    });
  }
  if (bucket.limitType !== 'concurrent' && bucket.windowSeconds === undefined) {
    problems.push({ path: at('windowSeconds'), message: `is required for limitType ${bucket.limitType}` });
  }
  if (/[{}]/.test(bucket.dimension)) {
    problems.push({
      path: at('dimension'),
      message: 'must use the key * for a keyed bucket, not a {placeholder}',
    });
  }
  if (bucket.costPerCall !== undefined && bucket.capacity > 0 && bucket.costPerCall > bucket.capacity) {
    problems.push({
      path: at('costPerCall'),
      message: `must not exceed capacity ${bucket.capacity} (it could never be granted)`,
    });
  }
  return problems;
}

function duplicateDimensions(buckets: readonly BucketLike[]): Problem[] {
  const firstIndex = new Map<string, number>();
  const problems: Problem[] = [];
  buckets.forEach((bucket, index) => {
    const first = firstIndex.get(bucket.dimension);
    if (first === undefined) firstIndex.set(bucket.dimension, index);
    else
      problems.push({
        path: ['buckets', index, 'dimension'],
        message: `duplicates buckets.${first}.dimension`,
      });
  });
  return problems;
}

/**
 * The bucket an operation's dimension template draws from: `vendor#metric` by name,
 * `vendor#metric#{field}` from the keyed definition `vendor#metric#*`, and a fixed key
 * from its own definition if there is one, else from the keyed definition.
 */
export function bucketForTemplate<B extends BucketLike>(
  template: string,
  buckets: readonly B[],
): B | undefined {
  const byName = (name: string) => buckets.find((bucket) => bucket.dimension === name);
  const [vendor, metric, key] = template.split('#');
  if (key === undefined) return byName(template);
  const keyed = byName(`${vendor}#${metric}#*`);
  return /^\{[^{}]+\}$/.test(key) ? keyed : (byName(template) ?? keyed);
}

function operationProblems(buckets: readonly BucketLike[], vendor: VendorSettings): Problem[] {
  // Every configured price: the operations', and what a direct call costs (vendor.directDimensions).
  const priced = Object.entries(vendor.operations).map(([operation, settings]) => ({
    at: ['vendor', 'operations', operation, 'dimensions'],
    dimensions: settings.dimensions,
  }));
  if (vendor.directDimensions) {
    priced.push({ at: ['vendor', 'directDimensions'], dimensions: vendor.directDimensions });
  }
  const problems: Problem[] = [];
  for (const { at, dimensions } of priced) {
    for (const [template, cost] of Object.entries(dimensions)) {
      const path = [...at, template];
      const bucket = bucketForTemplate(template, buckets);
      if (bucket === undefined) {
        problems.push({
          path,
          message: `names no bucket: define ${expectedDefinition(template)} in buckets`,
          omitValue: true,
        });
      } else if (bucket.capacity > 0 && cost > bucket.capacity) {
        problems.push({
          path,
          message: `costs more than the capacity ${bucket.capacity} of ${bucket.dimension} (it could never be granted)`,
        });
      }
    }
  }
  return problems;
}

function expectedDefinition(template: string): string {
  const [vendor, metric, key] = template.split('#');
  return key !== undefined && /^\{.*\}$/.test(key) ? `${vendor}#${metric}#*` : template;
}

interface EnvironmentLike {
  readonly lambdaTimeoutSeconds: number;
  readonly buckets: readonly BucketLike[];
  readonly vendor: VendorSettings;
  readonly alarmEmail?: string | undefined;
  readonly alarmTopicArn?: string | undefined;
}

export function environmentProblems(config: EnvironmentLike): Problem[] {
  const problems: Problem[] = [];
  const slotSeconds = slotTimeoutFor(config.lambdaTimeoutSeconds);
  const inline = config.vendor.policy.inlineRetryThresholdSeconds;
  // An out-of-range timeout is reported on its own; a slot derived from it would only confuse.
  // Reported on lambdaTimeoutSeconds, the field users write; the threshold is named with its
  // value and whether it is the default, so a user who never set it knows where it comes from.
  if (config.lambdaTimeoutSeconds >= MIN_LAMBDA_TIMEOUT_SECONDS && inline >= slotSeconds) {
    const source = inline === DEFAULT_INLINE_RETRY_THRESHOLD_SECONDS ? 'its default' : 'as configured';
    problems.push({
      path: ['lambdaTimeoutSeconds'],
      message: `must be at least ${Math.floor(inline) + SLOT_MARGIN_SECONDS + 1}: the slot (lambdaTimeoutSeconds - ${SLOT_MARGIN_SECONDS} = ${slotSeconds} s) must be longer than the inline retry wait, vendor.policy.inlineRetryThresholdSeconds = ${inline} s (${source})`,
    });
  }
  // Measured as the worker receives it, the tokens dimensions included.
  const vendorBytes = Buffer.byteLength(JSON.stringify(workerVendorSettings(config)));
  if (vendorBytes > MAX_VENDOR_SETTINGS_BYTES) {
    problems.push({
      path: ['vendor'],
      message: `takes ${vendorBytes} bytes as JSON, over ${MAX_VENDOR_SETTINGS_BYTES} (Lambda environment variables share 4 KB)`,
    });
  }
  // The stack configuration is what a deploy reads: the local stack points the worker at its own vendor afterwards.
  if (!config.vendor.baseUrl.startsWith('https:')) {
    problems.push({
      path: ['vendor', 'baseUrl'],
      message:
        'must be an https: URL: the API key goes with every call (the local stack replaces it with its own vendor by itself)',
    });
  }
  if (config.alarmEmail !== undefined && config.alarmTopicArn !== undefined) {
    problems.push({
      path: ['alarmEmail'],
      message: 'cannot be combined with alarmTopicArn: choose one',
      omitValue: true,
    });
  }
  return problems;
}
