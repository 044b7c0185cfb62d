import { startSlowVendor, type TimedCall } from './slow-vendor';

/**
 * A vendor with a true limit of `limitPerSecond` and no service time: a token bucket of that
 * capacity refilling that many per second, the model OpenAI documents and the project's
 * simulator uses (local/simulator/bucket.ts). Above it: 429 with `Retry-After` in whole
 * seconds until one call fits again. It records every call, so refusals can be plotted over
 * time. The server is the pool stage's (slow-vendor.ts), with one limit and no latency.
 */
export type RecordedCall = Pick<TimedCall, 'atMs' | 'status'>;

export interface LimitedVendor {
  readonly url: string;
  readonly calls: readonly RecordedCall[];
  stop(): Promise<void>;
}

export function startLimitedVendor(limitPerSecond: number, clock = Date.now): Promise<LimitedVendor> {
  return startSlowVendor(
    {
      latencyMs: 0,
      limits: [{ name: 'true limit', capacity: limitPerSecond, perSecond: limitPerSecond, cost: 1 }],
    },
    clock,
  );
}

/** Calls, refusals and the refusal share in each `windowSeconds` since the first call. */
export function refusalsOverTime(
  calls: readonly RecordedCall[],
  windowSeconds: number,
): Array<{ fromSeconds: number; calls: number; refusals: number; share: number }> {
  if (calls.length === 0) return [];
  const startMs = Math.min(...calls.map((call) => call.atMs));
  const windows: Array<{ fromSeconds: number; calls: number; refusals: number; share: number }> = [];
  for (const call of calls) {
    const index = Math.floor((call.atMs - startMs) / (windowSeconds * 1000));
    while (windows.length <= index) {
      windows.push({ fromSeconds: windows.length * windowSeconds, calls: 0, refusals: 0, share: 0 });
    }
    const window = windows[index]!;
    window.calls += 1;
    if (call.status === 429) window.refusals += 1;
  }
  for (const window of windows) window.share = window.calls === 0 ? 0 : window.refusals / window.calls;
  return windows;
}

/** Seconds from the first call until the refusal share stays below `threshold`; null if it never does. */
export function secondsUntilBelow(
  windows: ReadonlyArray<{ fromSeconds: number; calls: number; share: number }>,
  threshold: number,
): number | null {
  let since: number | null = null;
  for (const window of windows) {
    if (window.calls > 0 && window.share >= threshold) since = null;
    else since ??= window.fromSeconds;
  }
  return since;
}
