import { SLOT_MARGIN_SECONDS } from '../../contract';

/**
 * The slot deadline, derived in this one place: the invocation's remaining time, never more
 * than the configured Lambda timeout, minus the margin. A Lambda timeout kills the
 * environment without running `finally`, so `release()` must happen before it.
 */
export function slotDeadlineMs(nowMs: number, remainingTimeMs: number, lambdaTimeoutSeconds: number): number {
  return nowMs + Math.min(remainingTimeMs, lambdaTimeoutSeconds * 1000) - SLOT_MARGIN_SECONDS * 1000;
}

/** Milliseconds left before the deadline (0 when past it). */
export function timeLeftMs(nowMs: number, deadlineMs: number): number {
  return Math.max(0, deadlineMs - nowMs);
}
