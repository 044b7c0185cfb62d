import type { VendorSettings } from '../lambda/worker-settings';
import { bucketForTemplate, type Problem } from './config-rules';
import { slotTimeoutFor } from './worker-values';

/**
 * Sizing the worker's pool (docs/deploy.md, "Sizing the pool"). Little's law: calls in flight ≈
 * allowed rate × vendor latency. The pool (`vendor.maxInFlight`) must hold that many, the batch
 * (`batchSize`, gathered over `maxBatchingWindowSeconds`) must hold more than the pool, and the
 * Lambda timeout must leave time to start the whole batch. Hard limits are problems (the
 * configuration is rejected); estimates that depend on the vendor's latency are warnings,
 * shown at synth and by the local stack.
 */

interface SizingBucket {
  readonly dimension: string;
  readonly limitType: 'requests' | 'tokens' | 'concurrent';
  readonly capacity: number;
  readonly windowSeconds?: number | undefined;
}

export interface SizingConfig {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly lambdaTimeoutSeconds: number;
  readonly buckets: readonly SizingBucket[];
  readonly vendor: Pick<
    VendorSettings,
    'maxInFlight' | 'expectedLatencyMs' | 'requestTimeoutMs' | 'operations'
  >;
}

/** SQS hands Lambda at most 10 records unless the event source may wait to gather more. */
export const MAX_BATCH_WITHOUT_WINDOW = 10;
/** The largest batch an SQS event source of a standard queue takes. */
export const MAX_BATCH_SIZE = 10_000;

/** What one operation may do, from the buckets its dimensions draw on. */
export interface OperationLimits {
  readonly operation: string;
  /** Calls per second the time buckets allow (the smallest over the dimensions); Infinity if none. */
  readonly callsPerSecond: number;
  /** Calls the concurrent buckets allow at once; Infinity if none. */
  readonly concurrentCalls: number;
  /** The bucket that sets `concurrentCalls`, if any. */
  readonly concurrentBucket?: string;
}

export function operationLimits(config: Pick<SizingConfig, 'buckets' | 'vendor'>): OperationLimits[] {
  return Object.entries(config.vendor.operations).map(([operation, settings]) => {
    let callsPerSecond = Number.POSITIVE_INFINITY;
    let concurrentCalls = Number.POSITIVE_INFINITY;
    let concurrentBucket: string | undefined;
    for (const [template, cost] of Object.entries(settings.dimensions)) {
      const bucket = bucketForTemplate(template, config.buckets);
      if (bucket === undefined || cost <= 0) continue;
      if (bucket.limitType === 'concurrent') {
        const calls = Math.floor(bucket.capacity / cost);
        if (calls < concurrentCalls) {
          concurrentCalls = calls;
          concurrentBucket = bucket.dimension;
        }
      } else if (bucket.windowSeconds !== undefined) {
        callsPerSecond = Math.min(callsPerSecond, bucket.capacity / bucket.windowSeconds / cost);
      }
    }
    return { operation, callsPerSecond, concurrentCalls, ...(concurrentBucket ? { concurrentBucket } : {}) };
  });
}

/** Calls in flight an operation needs to use its whole quota at `latencyMs` (Little's law). */
export function callsInFlightNeeded(limits: OperationLimits, latencyMs: number): number {
  return Math.min(limits.concurrentCalls, (limits.callsPerSecond * latencyMs) / 1000);
}

/**
 * The batch a configuration gets when it names none: the most records the slot can start at the
 * slowest operation's allowed rate while a whole call still fits after the last start (rule 4
 * of "Sizing the pool"), at least 1; no operation bound by a rate: Infinity (the schema's
 * default stands).
 */
export function defaultBatchSize(
  config: Omit<SizingConfig, 'batchSize' | 'maxBatchingWindowSeconds'>,
): number {
  const slotMs = slotTimeoutFor(config.lambdaTimeoutSeconds) * 1000;
  const startsMs = slotMs - Math.min(config.vendor.requestTimeoutMs, slotMs);
  const slowest = Math.min(...operationLimits(config).map((limits) => limits.callsPerSecond));
  if (!Number.isFinite(slowest)) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor((slowest * startsMs) / 1000));
}

/** Rules the configuration must meet: reported with every other problem of the file. */
export function poolProblems(config: SizingConfig): Problem[] {
  const problems: Problem[] = [];
  // A batch size out of range is reported on its own; rules drawn from it would only confuse.
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1 || config.batchSize > MAX_BATCH_SIZE) {
    return problems;
  }
  if (config.batchSize > MAX_BATCH_WITHOUT_WINDOW && config.maxBatchingWindowSeconds < 1) {
    problems.push({
      path: ['maxBatchingWindowSeconds'],
      message: `must be at least 1 for a batchSize over ${MAX_BATCH_WITHOUT_WINDOW} (${config.batchSize}): without a window SQS hands the worker at most ${MAX_BATCH_WITHOUT_WINDOW} records`,
    });
  }
  if (config.batchSize < config.vendor.maxInFlight) {
    problems.push({
      path: ['vendor', 'maxInFlight'],
      message: `must not exceed batchSize ${config.batchSize}: a batch of ${config.batchSize} records can never keep ${config.vendor.maxInFlight} calls in flight`,
    });
  }
  return problems;
}

const rate = (value: number) => (value >= 10 ? value.toFixed(0) : value.toFixed(2));

/** Estimates that depend on the vendor's latency or on the batch's pace: explained, not rejected. */
export function poolWarnings(config: SizingConfig): string[] {
  const warnings: string[] = [];
  const { maxInFlight, expectedLatencyMs, requestTimeoutMs } = config.vendor;
  const slotMs = slotTimeoutFor(config.lambdaTimeoutSeconds) * 1000;
  if (requestTimeoutMs > slotMs) {
    warnings.push(
      `vendor.requestTimeoutMs ${requestTimeoutMs} is longer than the slot (${slotMs} ms, lambdaTimeoutSeconds - 5): only the first records of a batch start, and a call the deadline cuts has an unknown outcome`,
    );
  }
  for (const limits of operationLimits(config)) {
    const { operation, callsPerSecond, concurrentCalls, concurrentBucket } = limits;
    if (concurrentBucket !== undefined && maxInFlight > concurrentCalls + 1) {
      warnings.push(
        `${operation}: vendor.maxInFlight ${maxInFlight} is more than ${concurrentBucket} allows at once (${concurrentCalls}) plus one waiting: the extra records wait on the bucket and may be requeued; ${concurrentCalls + 1} is enough`,
      );
    }
    if (expectedLatencyMs !== undefined) {
      const needed = callsInFlightNeeded(limits, expectedLatencyMs);
      if (Number.isFinite(needed) && maxInFlight < Math.ceil(needed)) {
        const reach = (maxInFlight * 1000) / expectedLatencyMs;
        warnings.push(
          `${operation}: at ${expectedLatencyMs} ms a call, the buckets allow ${rate(callsPerSecond)} calls/s, which needs ${Math.ceil(needed)} calls in flight; vendor.maxInFlight ${maxInFlight} reaches about ${rate(reach)}/s`,
        );
      }
    }
    if (Number.isFinite(callsPerSecond) && callsPerSecond > 0) {
      const startsMs = (config.batchSize / callsPerSecond) * 1000;
      if (startsMs + Math.min(requestTimeoutMs, slotMs) > slotMs && requestTimeoutMs <= slotMs) {
        warnings.push(
          `${operation}: a batch of ${config.batchSize} at ${rate(callsPerSecond)} calls/s takes about ${Math.ceil(startsMs / 1000)} s to start, and a record starts only while a whole call (${requestTimeoutMs} ms) fits in the slot of ${slotMs / 1000} s: the last records of each batch are requeued unstarted; raise lambdaTimeoutSeconds or lower batchSize`,
        );
      }
    }
  }
  return warnings;
}
