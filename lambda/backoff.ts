/**
 * Exponential backoff with full jitter, shared by the producer helper (SQS sends), the vendor
 * client and the worker's requeue delays. Its own module at the root of lambda/, so the
 * producer does not import the vendor client to reach it.
 */

/** Options of the exponential backoff: `delay_i = min(maxMs, baseMs · 2^i)` before jitter. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform delay in
 * [0, min(maxMs, baseMs · 2^attempt)), so clients that failed together do not retry together.
 * `attempt` counts from 0; `random` returns [0, 1) and is injected so tests need no sleeps.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`backoff attempt ${attempt} must be a non-negative integer`);
  }
  if (!(options.baseMs > 0) || !(options.maxMs >= options.baseMs)) {
    throw new RangeError(
      `backoff needs 0 < baseMs <= maxMs, got baseMs ${options.baseMs} and maxMs ${options.maxMs}`,
    );
  }
  // 2^attempt overflows to Infinity for large attempts; min() keeps the ceiling finite.
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  const share = Math.min(Math.max(random(), 0), 1);
  return Math.floor(share * ceiling);
}
