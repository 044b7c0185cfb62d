import { LogEvent, Metric } from '../../contract';
import type { PreparedMessage, WorkerRuntime } from '../runtime';

/**
 * The grant for one repeat of a vendor request by the vendor client (after a 5xx, 408/425, a
 * timeout, a network error or a refreshed key): every request that reaches the vendor is
 * granted (docs/worker.md, "Repeats are granted").
 *
 * A repeat acquires the call's `requests` dimensions again, at the costs the first grant took:
 * each request reaching the vendor is counted there. Its `tokens` dimensions and its
 * `concurrent` slots are not taken again: they are the sub-budget the first grant already paid
 * for (an attempt that failed consumed no tokens, and the slot is held for the whole call). A
 * call with no `requests` dimension repeats under that sub-budget alone.
 *
 * Refused: it waits its turn in the pool's line for that bucket (the SDK's `BucketLines`), as a first
 * acquire does, so a repeat and the line's head never wake together and race for one unit;
 * one wait within the inline threshold and the slot deadline, then one more acquire. Still
 * refused (or the store failing), the repeat does not happen and the decision tree gets the
 * last answer.
 */
export async function grantRepeat(
  /** The grant's `requests` costs (vendor-call.ts, `grantedDimensions`). */
  costs: Readonly<Record<string, number>>,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<boolean> {
  if (Object.keys(costs).length === 0) return true;
  const acquire = async () => {
    const acquired = await runtime.warm.acquire(costs, prepared.acquireOptions);
    runtime.telemetry.count(acquired.outcome === 'Granted' ? Metric.grants : Metric.retryIns);
    return acquired;
  };
  try {
    let acquired = await acquire();
    if (acquired.outcome === 'Granted') return true;
    const thresholdMs = runtime.inlineRetryThresholdSeconds * 1000;
    const fits = (waitSeconds: number) => {
      const waitMs = Math.ceil(waitSeconds * 1000);
      return waitMs <= thresholdMs && runtime.clock() + waitMs < prepared.deadlineMs;
    };
    if (fits(acquired.waitSeconds)) {
      const patienceMs = Math.min(thresholdMs, Math.max(0, prepared.deadlineMs - runtime.clock()));
      const turn = await runtime.warm.joinLine(
        acquired.dimension,
        () => runtime.sleep(patienceMs),
        prepared.acquireOptions.product,
      );
      if (turn) {
        try {
          // The wait computed on arrival is stale after waiting in line.
          if (turn.waitedInLine) acquired = await acquire();
          if (acquired.outcome !== 'Granted' && fits(acquired.waitSeconds)) {
            await turn.sleep(Math.ceil(acquired.waitSeconds * 1000), runtime.sleep);
            acquired = await acquire();
          }
          if (acquired.outcome === 'Granted') return true;
        } finally {
          turn.leave();
        }
      }
    }
  } catch (error) {
    // The store failed: no grant, so no repeat; the call ends with the answer it has.
    runtime.telemetry.warn(LogEvent.repeatNotGranted, {
      id: prepared.message.id,
      error: (error as Error).message,
    });
    return false;
  }
  runtime.telemetry.info(LogEvent.repeatNotGranted, { id: prepared.message.id });
  return false;
}
