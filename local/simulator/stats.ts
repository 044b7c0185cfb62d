import type { SimulatorStats } from './types';

/** Statuses that are the vendor refusing work it could do later: what Sluice exists to avoid. */
const REFUSAL_STATUSES = new Set([429, 503, 409]);

export function emptyStats(): SimulatorStats {
  return {
    calls: 0,
    byStatus: {},
    refusals: 0,
    refusedByStatus: {},
    byIdempotencyKey: {},
    duplicateCompletions: 0,
    completions: 0,
    faults: { error: 0, slow: 0, drop: 0, hang: 0, down: 0, revoked: 0 },
    timeline: [],
    inFlight: 0,
    maxInFlight: 0,
    sentBeforeRetryAfter: 0,
  };
}

/** Records one answer (status 0: none was sent). */
export function recordAnswer(
  stats: SimulatorStats,
  atMs: number,
  status: number,
  completion?: { readonly idempotencyKey?: string; readonly replay: boolean },
): void {
  stats.timeline.push({ atMs, status });
  if (status === 0) return;
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  if (REFUSAL_STATUSES.has(status)) {
    stats.refusals += 1;
    stats.refusedByStatus[status] = (stats.refusedByStatus[status] ?? 0) + 1;
  }
  if (!completion) return;
  if (completion.replay) stats.duplicateCompletions += 1;
  else stats.completions += 1;
  const key = completion.idempotencyKey;
  if (key !== undefined) stats.byIdempotencyKey[key] = (stats.byIdempotencyKey[key] ?? 0) + 1;
}

/** A deep copy, so a caller's snapshot does not change under it. */
export function copyStats(stats: SimulatorStats): SimulatorStats {
  return structuredClone(stats);
}
