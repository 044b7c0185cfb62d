import { fullBucket } from '../../lambda/sluice/core/bucket-math';
import type { AcquireResult, BucketDefinition, Granted } from '../../lambda/sluice/core/types';

/** The vendor limits the project is built for: OpenAI rpm+tpm, a per-location booking limit, a one-at-a-time API. */
export const DEFINITIONS: BucketDefinition[] = [
  { dimension: 'openai#rpm', limitType: 'requests', capacity: 60, windowSeconds: 60 },
  { dimension: 'openai#tpm', limitType: 'tokens', capacity: 10_000, windowSeconds: 60 },
  { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 5, windowSeconds: 1 },
  { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 1, windowSeconds: 1 },
  { dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 2 },
];

export function granted(result: AcquireResult): Granted {
  if (result.outcome !== 'Granted')
    throw new Error(`expected Granted, got RetryIn ${result.waitSeconds} s on ${result.dimension}`);
  return result;
}

/** The instant the pure bucket-maths tests start from. */
export const T0 = 1_000_000;

/** 60 requests per minute, full at T0: 1 unit (1,000 milli) per second. */
export const RPM_60 = fullBucket(
  { limitType: 'requests', capacityMilli: 60_000, windowMs: 60_000, costPerCall: 1 },
  T0,
);
