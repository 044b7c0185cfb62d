import { CIRCUIT_KEY_PREFIX } from '../lambda/circuit/store';
import { SLOT_MARGIN_SECONDS } from '../lambda/contract';
import { IDEMPOTENCY_KEY_PREFIX } from '../lambda/idempotency/store';
import type { BucketDefinition, LimitType } from '../lambda/sluice';
import { PolicySchema, type VendorSettings } from '../lambda/worker-settings';
import { type DerivedBucket, deriveBucket, type VendorLimit } from './vendor-limit';
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

/** A bucket as the file gives it: the vendor's limit, or the bucket itself (config.ts). */
export interface BucketInput {
  readonly dimension: string;
  readonly limitType?: LimitType | undefined;
  readonly capacity?: number | undefined;
  readonly windowSeconds?: number | undefined;
  readonly costPerCall?: number | undefined;
  readonly vendorLimit?: VendorLimit | undefined;
  readonly lease?: { readonly maxShare: number; readonly seconds: number } | undefined;
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

/**
 * The rules of the two forms of a bucket (the vendor's limit, or the bucket itself): the other
 * rules read the buckets as the SDK stores them, so they wait until these find nothing.
 */
export function bucketInputProblems(inputs: readonly BucketInput[], vendor: VendorSettings): Problem[] {
  return inputs.flatMap((input, index) => bucketFormProblems(input, index, vendor));
}

/**
 * The definitions the SDK stores: a `vendorLimit` derived (vendor-limit.ts), the largest cost
 * any operation names for the bucket as one call; the raw form as given. Also one line per
 * derived bucket, saying how. Call on inputs `bucketProblems` found no problem in.
 */
export function bucketDefinitions(
  inputs: readonly BucketInput[],
  vendor: VendorSettings,
): { readonly definitions: BucketDefinition[]; readonly derivations: string[] } {
  const derivations: string[] = [];
  const definitions = inputs.map((input): BucketDefinition => {
    const { vendorLimit, ...raw } = input;
    if (vendorLimit === undefined) return raw as BucketDefinition;
    const derived = derive(input, vendorLimit, vendor);
    if ('problem' in derived) throw new Error(`bucket ${input.dimension}: ${derived.problem}`);
    derivations.push(derived.bucket.line);
    const { limitType, capacity, windowSeconds } = derived.bucket;
    return {
      dimension: input.dimension,
      limitType,
      capacity,
      windowSeconds,
      ...(input.costPerCall === undefined ? {} : { costPerCall: input.costPerCall }),
      // What the bucket is, besides its limit, stays as given.
      ...(raw.lease === undefined ? {} : { lease: raw.lease }),
    };
  });
  return { definitions, derivations };
}

function derive(
  input: BucketInput,
  vendorLimit: VendorLimit,
  vendor: VendorSettings,
): { readonly bucket: DerivedBucket } | { readonly problem: string } {
  // The template operations name this bucket by: its own name, or `vendor#metric#{field}` for `#*`.
  const probe = [{ dimension: input.dimension }];
  const costs = Object.values(vendor.operations).flatMap((operation) =>
    Object.entries(operation.dimensions)
      .filter(([template]) => bucketForTemplate(template, probe) !== undefined)
      .map(([, cost]) => cost),
  );
  return deriveBucket(input.dimension, vendorLimit, Math.max(input.costPerCall ?? 1, ...costs));
}

/** The rules of the two forms: one of them, whole, and a vendor limit that some call can pass. */
function bucketFormProblems(input: BucketInput, index: number, vendor: VendorSettings): Problem[] {
  const at = (...fields: string[]) => ['buckets', index, ...fields];
  const { vendorLimit } = input;
  if (vendorLimit === undefined) {
    const problems: Problem[] = [];
    if (input.limitType === undefined)
      problems.push({ path: at('limitType'), message: 'is required (or give vendorLimit)', omitValue: true });
    if (input.capacity === undefined)
      problems.push({ path: at('capacity'), message: 'is required (or give vendorLimit)', omitValue: true });
    return problems;
  }
  const problems: Problem[] = [];
  for (const field of ['capacity', 'windowSeconds'] as const) {
    if (input[field] !== undefined)
      problems.push({
        path: at(field),
        message:
          'cannot be combined with vendorLimit: give the vendor limit (Sluice derives the bucket) or the bucket, not both',
      });
  }
  const kinds = (['requests', 'tokens'] as const).filter((kind) => vendorLimit[kind] !== undefined);
  if (kinds.length !== 1)
    problems.push({
      path: at('vendorLimit'),
      message: 'needs exactly one of requests or tokens (the unit the vendor counts)',
      omitValue: true,
    });
  const [kind] = kinds;
  if (input.limitType !== undefined && kinds.length === 1 && input.limitType !== kind)
    problems.push({
      path: at('limitType'),
      message: `must be ${kind} for a vendorLimit counted in ${kind} (or be left out)`,
    });
  if (vendorLimit.counting === 'token-bucket' && vendorLimit.burst === undefined)
    problems.push({
      path: at('vendorLimit', 'burst'),
      message: 'is required for counting token-bucket (the most the vendor allows at once)',
      omitValue: true,
    });
  if (vendorLimit.counting !== 'token-bucket' && vendorLimit.burst !== undefined)
    problems.push({
      path: at('vendorLimit', 'burst'),
      message: `applies to counting token-bucket only (got counting ${vendorLimit.counting})`,
    });
  if (problems.length === 0) {
    const derived = derive(input, vendorLimit, vendor);
    if ('problem' in derived)
      problems.push({ path: at('vendorLimit'), message: derived.problem, omitValue: true });
  }
  return problems;
}

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
export function bucketForTemplate<B extends { readonly dimension: string }>(
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
