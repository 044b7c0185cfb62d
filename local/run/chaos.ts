import type { VendorFault } from '../aws/vendor-fetch';

/**
 * Which faults `--chaos` injects and when: deterministic positions in the sequence of vendor
 * calls, scaled to the workload, so a chaos run is repeatable and its report comparable.
 * - `kill`: the worker dies between acquire and release (the invocation is abandoned, its
 *   batch reappears after the visibility timeout, a concurrent lease waits for the reconciler);
 * - `server-error`: the vendor answers 500 (retried with the idempotency key);
 * - `hang`: the vendor never answers; the worker's deadline aborts the call (unknown outcome).
 * Duplicate delivery is the third fault: the first `duplicates` completed messages are
 * sent again with the same id, and must not reach the vendor twice.
 */
export interface ChaosPlan {
  readonly faults: ReadonlyMap<number, VendorFault>;
  readonly duplicates: number;
}

export function chaosPlan(total: number): ChaosPlan {
  const at = (fraction: number) => Math.max(1, Math.round(total * fraction));
  const faults = new Map<number, VendorFault>();
  // Later entries never overwrite earlier ones on a tiny workload.
  const place = (call: number, fault: VendorFault) => {
    let position = call;
    while (faults.has(position)) position += 1;
    faults.set(position, fault);
  };
  place(at(0.1), 'kill');
  place(at(0.2), 'server-error');
  place(at(0.2) + 1, 'server-error');
  // One kill only: its batch waits out a whole visibility timeout before it comes back.
  place(at(0.35), 'hang');
  return { faults, duplicates: Math.min(3, Math.max(1, Math.floor(total / 50))) };
}

/** The fault for each vendor call in turn (calls are counted from 1). */
export function faultSequence(plan: ChaosPlan): () => VendorFault | undefined {
  let calls = 0;
  return () => {
    calls += 1;
    return plan.faults.get(calls);
  };
}

/** The Lambda timeout a chaos run uses: the shortest that keeps the inline threshold below the slot. */
export function chaosLambdaTimeoutSeconds(options: {
  readonly configured: number;
  readonly inlineThresholdSeconds: number;
  readonly minimum: number;
  readonly slotMarginSeconds: number;
}): number {
  const shortest = Math.max(
    options.minimum,
    Math.floor(options.inlineThresholdSeconds) + options.slotMarginSeconds + 1,
  );
  return Math.min(options.configured, shortest);
}
