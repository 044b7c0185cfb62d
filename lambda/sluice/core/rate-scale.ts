import { FULL_RATE_PERMILLE } from './model';
import { mulDivCeil, mulDivFloor } from './mul-div';

/**
 * The refill-rate scale a vendor's 429s teach a bucket (docs/design.md, "penalize and the rate
 * scale"): the scheme CUBIC uses to find a capacity nobody announces, and the AWS SDKs' adaptive
 * retry mode uses for throttling, on the integer state a bucket stores. Pure: every function
 * takes the instant it works at.
 *
 * A cut multiplies the scale by the penalty factor and learns a **ceiling** just below the
 * scale that was refused. The scale then **regains** the ceiling quickly (it is believed safe),
 * and **probes** above it slowly at first, `(τ / 80 s)³` permille after τ at the ceiling, so
 * the next refusal comes minutes later, not seconds; the probe speeds up the longer nothing is
 * refused, so a limit that was only a transient heals completely.
 */

/** A cut never takes the scale below 5 % of the configured rate, so refill always heals. */
export const RATE_SCALE_MIN_PERMILLE = 50;
/** Below the ceiling the scale regains 1200 permille a minute: from the floor to 0.95 in 45 s. */
export const RATE_REGAIN_PERMILLE_PER_MINUTE = 1_200;
/** Above the ceiling it probes `floor((τ / RATE_PROBE_UNIT_MS)³)` permille: 1 at 80 s, 27 at 4 min, 1000 at 13.3 min. */
export const RATE_PROBE_UNIT_MS = 80_000;
/**
 * A penalize within this long of the last rate cut scales tokens but does not cut the rate
 * again: a burst of refusals from one overshoot (many workers hitting 429 at once) is one
 * congestion signal, as TCP cuts its window once per round trip.
 */
export const RATE_CUT_HOLD_MS = 1_000;
/** The ceiling after a refusal at scale S: `S · 950‰` when the previous cut is older than a minute (a probe went just too far)... */
export const RATE_CEILING_AFTER_PROBE_PERMILLE = 950;
/** ...and `S · 750‰` when it is younger: the last ceiling was already too high, and regaining it overshot. */
export const RATE_CEILING_AFTER_REGAIN_PERMILLE = 750;
/** "Younger": the previous cut was less than this long before. */
export const RATE_CEILING_YOUNG_MS = 60_000;

const MINUTE_MS = 60_000;
/** `RATE_PROBE_UNIT_MS³`, the probe's divisor (5.12·10^14, a safe integer). */
const PROBE_UNIT_CUBED = RATE_PROBE_UNIT_MS ** 3;
/** After this long at the ceiling the probe adds ≥ 1000 permille: the scale is full, whatever the ceiling. */
const PROBE_FULL_MS = 10 * RATE_PROBE_UNIT_MS;

/** The part of a bucket's state the rate scale lives in (all integers). */
export interface RateScaleState {
  /** The scale set by the last cut, in permille (1000 = as configured, never cut). */
  readonly rateScalePermille: number;
  /** When that cut happened (0 if never); regaining and probing count from here. */
  readonly rateScaleAtMs: number;
  /** The scale regained quickly after the cut; probing above it is slow. ≥ `rateScalePermille`. */
  readonly rateCeilingPermille: number;
  /**
   * Units granted since the last cut, counted up to the capacity (`take` in bucket-math.ts):
   * whether the scale in force had the time to cause the next refusal.
   */
  readonly grantedSinceCutMilli: number;
}

/** A bucket never cut: the configured rate, no ceiling learnt. */
export const UNSCALED: RateScaleState = {
  rateScalePermille: FULL_RATE_PERMILLE,
  rateScaleAtMs: 0,
  rateCeilingPermille: FULL_RATE_PERMILLE,
  grantedSinceCutMilli: 0,
};

/**
 * The effective scale at `atMs`, in permille, `dt = max(0, atMs − rateScaleAtMs)` after the
 * cut: `stored + floor(dt · 1200 / 60,000)` until that reaches the ceiling (regain), then
 * `ceiling + floor((τ / 80 s)³)` with τ the time at the ceiling (probe), at most 1000.
 * Continuous at the ceiling and non-decreasing in `atMs` (flat before `rateScaleAtMs`, so a
 * clock behind never recovers); the caps are checked before any product, so a long idle period
 * cannot overflow.
 */
export function rateScaleAt(state: RateScaleState, atMs: number): number {
  const stored = state.rateScalePermille;
  if (stored >= FULL_RATE_PERMILLE) return FULL_RATE_PERMILLE;
  const ceiling = Math.min(FULL_RATE_PERMILLE, Math.max(stored, state.rateCeilingPermille));
  const sinceMs = Math.max(0, atMs - state.rateScaleAtMs);
  const regainMs = mulDivCeil(ceiling - stored, MINUTE_MS, RATE_REGAIN_PERMILLE_PER_MINUTE);
  // Below regainMs, floor(dt · rate) < ceiling − stored: the regain stays under the ceiling.
  if (sinceMs < regainMs) return stored + mulDivFloor(sinceMs, RATE_REGAIN_PERMILLE_PER_MINUTE, MINUTE_MS);
  const probeMs = sinceMs - regainMs;
  if (probeMs >= PROBE_FULL_MS) return FULL_RATE_PERMILLE;
  // probeMs² < 6.4·10^11, and the cube goes through mulDivFloor's exact BigInt path.
  return Math.min(FULL_RATE_PERMILLE, ceiling + mulDivFloor(probeMs * probeMs, probeMs, PROBE_UNIT_CUBED));
}

/**
 * The rate part of a penalize at `atMs` (already `≥` every stored instant) on a bucket of
 * `capacityMilli`: within `RATE_CUT_HOLD_MS` of the last cut, nothing changes. Otherwise, with
 * `S` the effective scale, the new scale is `floor(S · factor)` (factor to the millionth), at
 * least the floor, and the grant count starts again from 0.
 *
 * The ceiling is learnt, `floor(S · 950‰)` or `· 750‰` when the previous cut is under a minute
 * old, only when at least a full bucket (`capacityMilli`) was granted since the last cut, or the
 * bucket had never been cut: a refusal that comes sooner says the vendor is still refusing (its
 * own burst still draining, or an incident refusing everything), not that the scale `S`, barely
 * in force, is too high. Those cuts go on lowering the scale and keep the ceiling, so an outage
 * does not teach a ceiling near the floor. The ceiling is never below the new scale nor above 1000.
 */
export function cutRate(
  state: RateScaleState,
  capacityMilli: number,
  factor: number,
  atMs: number,
  inBurst = false,
): RateScaleState {
  const cutRecently =
    state.rateScalePermille < FULL_RATE_PERMILLE && atMs - state.rateScaleAtMs < RATE_CUT_HOLD_MS;
  if (cutRecently) return rateScaleOf(state);
  const scale = rateScaleAt(state, atMs);
  const cut = mulDivFloor(scale, Math.round(factor * 1_000_000), 1_000_000);
  const rateScalePermille = Math.min(FULL_RATE_PERMILLE, Math.max(RATE_SCALE_MIN_PERMILLE, cut));
  const neverCut = state.rateScalePermille >= FULL_RATE_PERMILLE;
  const learns = neverCut || state.grantedSinceCutMilli >= capacityMilli;
  const previousCutYoung = !neverCut && atMs - state.rateScaleAtMs < RATE_CEILING_YOUNG_MS;
  const margin = previousCutYoung ? RATE_CEILING_AFTER_REGAIN_PERMILLE : RATE_CEILING_AFTER_PROBE_PERMILLE;
  // The first refusal while a full bucket's burst is spent (no cut in the last minute) may be the
  // vendor refusing the burst, not the rate: no ceiling is learnt from it, so the scale regains
  // the configured rate (in 10 s from a 0.8 cut). A refusal that follows is young and learns.
  const burstOnly = inBurst && !previousCutYoung;
  const learnt = burstOnly
    ? FULL_RATE_PERMILLE
    : learns
      ? mulDivFloor(scale, margin, FULL_RATE_PERMILLE)
      : state.rateCeilingPermille;
  return {
    rateScalePermille,
    rateScaleAtMs: atMs,
    rateCeilingPermille: Math.min(FULL_RATE_PERMILLE, Math.max(rateScalePermille, learnt)),
    grantedSinceCutMilli: 0,
  };
}

function rateScaleOf(state: RateScaleState): RateScaleState {
  const { rateScalePermille, rateScaleAtMs, rateCeilingPermille, grantedSinceCutMilli } = state;
  return { rateScalePermille, rateScaleAtMs, rateCeilingPermille, grantedSinceCutMilli };
}

/**
 * The grant count after `costMilli` more units are taken: it only needs to reach the capacity,
 * and only once the bucket has been cut (before that, every cut learns a ceiling anyway).
 */
export function countGrant(state: RateScaleState, capacityMilli: number, costMilli: number): number {
  if (state.rateScalePermille >= FULL_RATE_PERMILLE) return state.grantedSinceCutMilli;
  return Math.min(capacityMilli, state.grantedSinceCutMilli + costMilli);
}
