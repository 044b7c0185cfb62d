import { SluiceInputError } from '../errors';
import { countsTokens, holdsLeases, isLimitType, LIMIT_TYPES } from './limit-types';
import { type BucketDefinitionState, MILLI } from './model';
import { PRODUCT_PATTERN, sharesToPermille } from './shares';
import type { AcquireRequest, BucketDefinition, Dimension } from './types';

/** Where a dimension lives: the item `pk` and the map entry `metric` inside it. */
export interface DimensionAddress {
  readonly dimension: Dimension;
  readonly vendor: string;
  readonly metric: string;
  /** Set for a keyed dimension (`v#m#k`): its own item, created from the template on first use. */
  readonly key?: string;
  readonly pk: string;
}

// Vendor and metric become map keys and parts of item keys: keep them to a safe alphabet.
const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const KEY = /^[^#\s]{1,512}$/;

/** The bucket a dimension belongs to, as `vendor#metric`: a key (or a keyed template's `*`) dropped. */
export function bucketName(dimension: string): string {
  return dimension.split('#').slice(0, 2).join('#');
}

export function parseDimension(dimension: unknown, allowTemplate = false): DimensionAddress {
  const parts = typeof dimension === 'string' ? dimension.split('#') : [];
  const [vendor = '', metric = '', key] = parts;
  const keyOk = key === undefined || (KEY.test(key) && (key !== '*' || allowTemplate));
  if (parts.length < 2 || parts.length > 3 || !NAME.test(vendor) || !NAME.test(metric) || !keyOk) {
    throw new SluiceInputError(
      `dimension ${JSON.stringify(dimension)} is not valid: expected "vendor#metric" or "vendor#metric#key" ` +
        `(vendor and metric of letters, digits, "_", ".", ":", "-"; a key without "#" or spaces` +
        `${allowTemplate ? '' : '; "*" only in definitions'})`,
    );
  }
  const d = dimension as string;
  if (key === undefined) return { dimension: d, vendor, metric, pk: vendor };
  return { dimension: d, vendor, metric, key, pk: key === '*' ? vendor : d };
}

/** Normalises the three request forms to `{ dimension: cost | undefined }` (undefined = cost_per_call). */
export function requestedCosts(request: AcquireRequest): Record<Dimension, number | undefined> {
  if (typeof request === 'string') return { [request]: undefined };
  if (Array.isArray(request)) {
    const names = request as readonly Dimension[];
    if (names.length === 0)
      throw new SluiceInputError('acquire needs at least one dimension (got an empty list)');
    return Object.fromEntries(names.map((name) => [name, undefined]));
  }
  const costs = request as Readonly<Record<Dimension, number>>;
  if (Object.keys(costs).length === 0)
    throw new SluiceInputError('acquire needs at least one dimension (got {})');
  return { ...costs };
}

/** Converts a cost to milli-units, checking the rules of the dimension's limit type. */
export function costToMilli(dimension: Dimension, cost: number, definition: BucketDefinitionState): number {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
    throw new SluiceInputError(`cost of ${dimension} must be a finite number >= 0 (got ${cost})`);
  }
  if (!countsTokens(definition.limitType) && !Number.isInteger(cost)) {
    throw new SluiceInputError(
      `cost of ${dimension} must be a whole number for a ${definition.limitType} bucket (got ${cost})`,
    );
  }
  if (holdsLeases(definition.limitType) && cost < 1) {
    // A lease of 0 takes nothing: any number of holders would pass a 1-slot bucket.
    throw new SluiceInputError(
      `cost of ${dimension} must be at least 1 for a concurrent bucket (got ${cost})`,
    );
  }
  // Token estimates may be fractional; round up so a grant never takes less than asked.
  const milli = Math.ceil(cost * MILLI);
  if (milli > definition.capacityMilli) {
    throw new SluiceInputError(
      `cost ${cost} of ${dimension} exceeds its capacity ${definition.capacityMilli / MILLI}: it could never be granted`,
    );
  }
  return milli;
}

/**
 * The largest capacity, in units: its milli-units times a rate scale in permille (10^9 · 10^3 ·
 * 10^3) stay exact in a double (< 2^53), and so does every stored number.
 */
export const MAX_CAPACITY = 1_000_000_000;
/** The longest window, a year of 366 days: its milliseconds times 1000 stay exact in a double. */
export const MAX_WINDOW_SECONDS = 366 * 86_400;

/** Validates a definition and converts it to stored integers. */
export function definitionState(definition: BucketDefinition): BucketDefinitionState {
  const { dimension, limitType, capacity, windowSeconds, costPerCall = 1 } = definition;
  parseDimension(dimension, true);
  const problems: string[] = [];
  if (!isLimitType(limitType))
    problems.push(`limitType must be one of ${LIMIT_TYPES.join(', ')} (got ${JSON.stringify(limitType)})`);
  if (!Number.isInteger(capacity) || capacity <= 0 || capacity > MAX_CAPACITY)
    problems.push(`capacity must be a positive integer of at most ${MAX_CAPACITY} (got ${capacity})`);
  const timed = isLimitType(limitType) && !holdsLeases(limitType);
  if (
    timed &&
    !(
      typeof windowSeconds === 'number' &&
      Number.isFinite(windowSeconds) &&
      windowSeconds > 0 &&
      windowSeconds <= MAX_WINDOW_SECONDS
    )
  ) {
    problems.push(
      `windowSeconds must be a positive number of at most ${MAX_WINDOW_SECONDS} for a ${limitType} bucket (got ${windowSeconds})`,
    );
  }
  if (!(Number.isFinite(costPerCall) && costPerCall > 0 && costPerCall <= capacity)) {
    problems.push(`costPerCall must be > 0 and <= capacity (got ${costPerCall})`);
  }
  const capacityMilli = capacity * MILLI;
  const windowMs = timed && windowSeconds ? windowToMs(windowSeconds) : 0;
  // At least 1 milli-unit per second (windowMs ≤ capacityMilli × 1000), the bound the stored
  // rate used to impose; it also keeps windowMs within capacityMilli's magnitude.
  if (problems.length === 0 && timed && capacityMilli * MILLI < windowMs) {
    problems.push(
      `capacity / windowSeconds must be at least 0.001 units per second (got ${capacity} / ${windowSeconds})`,
    );
  }
  const slicing = definition.lease === undefined ? undefined : slicingState(definition, timed, problems);
  problems.push(...shareProblems(definition.shares, timed));
  if (
    definition.lease !== undefined &&
    definition.shares !== undefined &&
    Object.keys(definition.shares).length > 0
  ) {
    // A slice is granted from without a write, so no product's reserve could be kept in it.
    problems.push(
      "lease and shares cannot be combined: slices are granted locally, outside the products' reserves",
    );
  }
  if (problems.length > 0) {
    throw new SluiceInputError(`bucket definition ${dimension} is not valid: ${problems.join('; ')}`);
  }
  const shares = definition.shares && timed && Object.keys(definition.shares).length > 0;
  return {
    limitType,
    capacityMilli,
    windowMs,
    costPerCall,
    ...(slicing ? { slicing } : {}),
    ...(shares ? { sharesPermille: sharesToPermille(definition.shares!) } : {}),
  };
}

/** The longest slice lifetime: a process that dies holding one keeps it out of use this long at most. */
export const MAX_SLICE_SECONDS = 300;
function slicingState(definition: BucketDefinition, timed: boolean, problems: string[]) {
  const { maxShare, seconds } = definition.lease ?? {};
  const before = problems.length;
  if (!timed) problems.push('lease applies to time buckets (requests, tokens), not concurrent ones');
  if (!(typeof maxShare === 'number' && maxShare > 0 && maxShare <= 1))
    problems.push(`lease.maxShare must be > 0 and <= 1 (got ${maxShare})`);
  if (
    !(
      typeof seconds === 'number' &&
      Number.isInteger(seconds) &&
      seconds >= 1 &&
      seconds <= MAX_SLICE_SECONDS
    )
  )
    problems.push(`lease.seconds must be a whole number from 1 to ${MAX_SLICE_SECONDS} (got ${seconds})`);
  if (problems.length > before) return undefined;
  return { sharePermille: Math.max(1, Math.round(maxShare! * MILLI)), sliceMs: seconds! * MILLI };
}

/** Shares: valid product names, each in (0, 1] to the permille, summing to at most 1; time buckets only. */
function shareProblems(shares: Readonly<Record<string, number>> | undefined, timed: boolean): string[] {
  if (shares === undefined) return [];
  if (typeof shares !== 'object' || shares === null)
    return [`shares must be an object (got ${JSON.stringify(shares)})`];
  if (!timed && Object.keys(shares).length > 0) return ['shares apply to requests and tokens buckets only'];
  const problems: string[] = [];
  for (const [product, share] of Object.entries(shares)) {
    if (!PRODUCT_PATTERN.test(product))
      problems.push(`shares: ${JSON.stringify(product)} is not a product name`);
    if (
      !(
        typeof share === 'number' &&
        share > 0 &&
        share <= 1 &&
        Math.abs(share * 1000 - Math.round(share * 1000)) <= 1e-6
      )
    )
      problems.push(`shares.${product} must be in (0, 1], to the permille (got ${share})`);
  }
  const sum = Object.values(shares).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  if (sum > 1 + 1e-9) problems.push(`shares must sum to at most 1 (got ${Math.round(sum * 1000) / 1000})`);
  return problems;
}

/**
 * Seconds to whole milliseconds, rounded **up** (a longer window never refills faster than
 * defined), at least 1. A product within binary noise of a whole number (1.001 × 1000 =
 * 1000.9999999999999) is that number, so windows given to the ms are kept exactly.
 */
function windowToMs(windowSeconds: number): number {
  const ms = windowSeconds * MILLI;
  const nearest = Math.round(ms);
  const whole = Math.abs(ms - nearest) <= 1e-9 * Math.max(1, ms) ? nearest : Math.ceil(ms);
  return Math.max(1, whole);
}
