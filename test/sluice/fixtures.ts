import type { AcquireResult, BucketDefinition, Granted } from '../../lambda/sluice/types';

/** The buckets of DESIGN §1: OpenAI rpm+tpm, a per-location booking limit, a one-at-a-time API. */
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
