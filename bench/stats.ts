/** Pure arithmetic over recorded runs: percentiles, over-admission, replayed tokens. */

/** Nearest-rank percentile (p in (0, 100]) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

/** A grant as the caller saw it: sent at `sentMs`, answered at `answeredMs`. */
export interface GrantWindow {
  readonly sentMs: number;
  readonly answeredMs: number;
  readonly units: number;
}

/**
 * The largest excess over invariant 1 (admitted ≤ capacity + rate · Δ) over every interval
 * spanned by consecutive grants. The bucket took each grant at an unknown moment between
 * sending and answer, so an interval is charged its widest possible length (first send to
 * last answer): network jitter never shows as over-admission, only a real excess does.
 */
export function worstIntervalExcess(
  grants: readonly GrantWindow[],
  capacity: number,
  ratePerSecond: number,
): number {
  const sorted = [...grants].sort((a, b) => a.sentMs - b.sentMs);
  let worst = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    const first = sorted[i]!;
    let units = 0;
    let lastAnswer = first.answeredMs;
    for (let j = i; j < sorted.length; j += 1) {
      const grant = sorted[j]!;
      units += grant.units;
      lastAnswer = Math.max(lastAnswer, grant.answeredMs);
      const allowed = capacity + (ratePerSecond * (lastAnswer - first.sentMs)) / 1000;
      worst = Math.max(worst, units - allowed);
    }
  }
  return worst;
}

/**
 * Tokens over time implied by the grants: a token bucket of the same capacity and rate,
 * full at `startMs`, replayed over the answer times. It goes below zero exactly where more
 * was admitted than a token bucket allows.
 */
export function replayTokens(
  grants: readonly GrantWindow[],
  capacity: number,
  ratePerSecond: number,
  startMs: number,
): Array<{ atSeconds: number; tokens: number }> {
  const sorted = [...grants].sort((a, b) => a.answeredMs - b.answeredMs);
  let tokens = capacity;
  let lastMs = startMs;
  const points = [{ atSeconds: 0, tokens }];
  for (const grant of sorted) {
    tokens = Math.min(capacity, tokens + (ratePerSecond * (grant.answeredMs - lastMs)) / 1000) - grant.units;
    lastMs = grant.answeredMs;
    points.push({ atSeconds: (grant.answeredMs - startMs) / 1000, tokens });
  }
  return points;
}

/** Units admitted in each whole second since `startMs` (by answer time). */
export function unitsPerSecond(grants: readonly GrantWindow[], startMs: number, seconds: number): number[] {
  const perSecond = new Array<number>(Math.max(0, Math.ceil(seconds))).fill(0);
  for (const grant of grants) {
    const index = Math.floor((grant.answeredMs - startMs) / 1000);
    if (index >= 0 && index < perSecond.length) perSecond[index] = (perSecond[index] ?? 0) + grant.units;
  }
  return perSecond;
}

export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
