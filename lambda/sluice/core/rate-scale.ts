import { FULL_RATE_PERMILLE } from './model';
import { mulDivCeil, mulDivFloor } from './mul-div';

/**
 * The refill-rate scale a vendor's 429s teach a bucket (docs/design.md, "penalize and the rate
 * scale"): the scheme CUBIC uses to find a capacity nobody announces, and the AWS SDKs' adaptive
 * retry mode uses for throttling, on the integer state a bucket stores. Pure: every function
 * takes the instant it works at.
 *
 * A cut multiplies the scale by the penalty factor and may learn a **ceiling** below the scale
 * that was refused. The scale then **regains** the ceiling quickly (it is believed safe), stays
 * there for the **probe delay**, and then **probes** above it, linearly, until it is whole again
 * or the vendor refuses. A refusal of a probe learns the ceiling again just below it and doubles
 * the probe delay, so a limit that is really there is probed ever more rarely, while a ceiling
 * learnt from a transient (the vendor's window edge, jitter, a short incident) heals within a
 * minute.
 *
 * When the vendor states its limit in its answers, a refusal while the scale is at or below it
 * is a timing signal, not a rate one: the hold and the bucket's phase handle it (`penalize` in
 * bucket-math.ts), and the scale only takes a margin below the stated limit (a ceiling under
 * that margin only once the margin itself was refused after a whole bucket); a stated limit below the configured rate becomes the ceiling, probed only
 * after the longest delay.
 */

/** A cut never takes the scale below 5 % of the configured rate, so refill always heals. */
export const RATE_SCALE_MIN_PERMILLE = 50;
/** Below the ceiling the scale regains 2400 permille a minute: from a 0.8 cut to whole in 5 s, from the floor to 0.95 in 22.5 s. */
export const RATE_REGAIN_PERMILLE_PER_MINUTE = 2_400;
/** At the ceiling the scale stays this long before the first probe above it (a learnt ceiling is probed within a minute). */
export const RATE_PROBE_DELAY_MS = 10_000;
/** Each refusal of a probe doubles the delay before the next one, up to this. */
export const RATE_PROBE_MAX_DELAY_MS = 320_000;
/** Above the ceiling the scale probes 1200 permille a minute (20 a second). */
export const RATE_PROBE_PERMILLE_PER_MINUTE = 1_200;
/**
 * A penalize within this long of the last rate cut scales tokens but does not cut the rate
 * again: a burst of refusals from one overshoot (many workers hitting 429 at once) is one
 * congestion signal, as TCP cuts its window once per round trip.
 */
export const RATE_CUT_HOLD_MS = 1_000;
/** The ceiling after a refusal at scale S: `S · 950‰` when a probe went just too far (or the scale was whole)... */
export const RATE_CEILING_AFTER_PROBE_PERMILLE = 950;
/** ...and `S · 750‰` when the scale was still at or below a ceiling learnt less than a minute before: that ceiling was too high. */
export const RATE_CEILING_AFTER_REGAIN_PERMILLE = 750;
/** "Younger": the previous cut was less than this long before. */
export const RATE_CEILING_YOUNG_MS = 60_000;

/**
 * A refusal at or below a limit the vendor states, outside a burst, sets the scale to this share
 * of the stated limit: room for about 50 ms of grant-to-arrival jitter in a 1 s window (the
 * margin `vendorLimit` derives by default), probed away like a ceiling.
 */
export const RATE_TIMING_MARGIN_PERMILLE = 950;

const MINUTE_MS = 60_000;
/** After this long probing, the scale is whole whatever the ceiling. */
const PROBE_FULL_MS = mulDivCeil(FULL_RATE_PERMILLE, MINUTE_MS, RATE_PROBE_PERMILLE_PER_MINUTE);

/** The part of a bucket's state the rate scale lives in (all integers). */
export interface RateScaleState {
  /** The scale set by the last cut, in permille (1000 = as configured, never cut). */
  readonly rateScalePermille: number;
  /** When that cut happened (0 if never); regaining and probing count from here. */
  readonly rateScaleAtMs: number;
  /** The scale regained quickly after the cut; probing above it waits the probe delay. ≥ `rateScalePermille`. */
  readonly rateCeilingPermille: number;
  /**
   * Units granted since the last cut, counted up to the capacity (`take` in bucket-math.ts):
   * whether the scale in force had the time to cause the next refusal.
   */
  readonly grantedSinceCutMilli: number;
  /** How long the scale stays at the ceiling before probing above it; absent: `RATE_PROBE_DELAY_MS`. */
  readonly rateProbeDelayMs?: number;
}

/** A bucket never cut: the configured rate, no ceiling learnt. */
export const UNSCALED: RateScaleState = {
  rateScalePermille: FULL_RATE_PERMILLE,
  rateScaleAtMs: 0,
  rateCeilingPermille: FULL_RATE_PERMILLE,
  grantedSinceCutMilli: 0,
};

/** The probe delay in force (the stored one, or the default). */
export function probeDelayMs(state: RateScaleState): number {
  return state.rateProbeDelayMs ?? RATE_PROBE_DELAY_MS;
}

/**
 * The effective scale at `atMs`, in permille, `dt = max(0, atMs − rateScaleAtMs)` after the
 * cut: `stored + floor(dt · 2400 / 60,000)` until that reaches the ceiling (regain), then the
 * ceiling for the probe delay, then `ceiling + floor(τ · 1200 / 60,000)` with τ the time probing,
 * at most 1000. Continuous and non-decreasing in `atMs` (flat before `rateScaleAtMs`, so a
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
  const probeMs = sinceMs - regainMs - probeDelayMs(state);
  if (probeMs <= 0) return ceiling;
  if (probeMs >= PROBE_FULL_MS) return FULL_RATE_PERMILLE;
  return Math.min(
    FULL_RATE_PERMILLE,
    ceiling + mulDivFloor(probeMs, RATE_PROBE_PERMILLE_PER_MINUTE, MINUTE_MS),
  );
}

/** What the refusal is known to be about, beside the factor. */
export interface CutContext {
  /** The refusal came within one window of a grant that found the bucket full (`inBurst`). */
  readonly inBurst?: boolean;
  /**
   * The limit the vendor states in its answers, in permille of the configured rate (may exceed
   * 1000): a refusal at or below it is timing, and no ceiling is learnt below it.
   */
  readonly statedPermille?: number;
}

/**
 * The rate part of a penalize at `atMs` (already `≥` every stored instant) on a bucket of
 * `capacityMilli`: within `RATE_CUT_HOLD_MS` of the last cut, nothing changes. With `S` the
 * effective scale:
 *
 * - A vendor-stated limit `P` at or above `S`: a timing refusal. Outside a burst, and with `S`
 *   above `P · 950‰`, the scale and the ceiling become `P · 950‰` (a jitter margin); at or
 *   below it, unchanged, unless a whole bucket was granted since the last cut and its probe
 *   delay has not run out: then the margin did not help, and the cut is the one below, as with
 *   nothing stated.
 * - Otherwise the new scale is `floor(S · factor)` (factor to the millionth), at least the floor,
 *   and the grant count starts again from 0. A stated limit below `S` caps the new scale and
 *   becomes the ceiling, probed after `RATE_PROBE_MAX_DELAY_MS`.
 * - The ceiling is learnt only when at least a full bucket (`capacityMilli`) was granted since
 *   the last cut, or the bucket had never been cut: a refusal that comes sooner says the vendor
 *   is still refusing (its own burst still draining, or an incident refusing everything), not
 *   that the scale `S`, barely in force, is too high. Those cuts lower the scale and keep the
 *   ceiling, so an outage does not teach a ceiling near the floor.
 * - A refusal in a burst (the bucket's stored capacity spent at once) learns no ceiling: the
 *   vendor refused the burst, not the rate (after a hold the bucket restarts empty, so a bucket
 *   whose rate is too high is refused again outside a burst, and learns then).
 * - A refusal while probing above a learnt ceiling keeps that ceiling (it held for the probe
 *   delay), or `S · 750‰` when higher, and doubles the probe delay. One at or below a ceiling
 *   learnt under a minute before learns `S · 750‰` (that ceiling was too high); one at the whole
 *   rate, or after a minute, `S · 950‰`. The ceiling is never below the new scale nor above 1000.
 */
export function cutRate(
  state: RateScaleState,
  capacityMilli: number,
  factor: number,
  atMs: number,
  context: CutContext = {},
): RateScaleState {
  const cutRecently =
    state.rateScalePermille < FULL_RATE_PERMILLE && atMs - state.rateScaleAtMs < RATE_CUT_HOLD_MS;
  if (cutRecently) return rateScaleOf(state);
  const scale = rateScaleAt(state, atMs);
  const { statedPermille } = context;
  if (statedPermille !== undefined && scale <= statedPermille) {
    const timing = timingMargin(state, capacityMilli, scale, statedPermille, atMs, context.inBurst === true);
    // The margin held for a whole bucket and the vendor still refuses: it lets through less than
    // it states (a sliding counter passes L − 1 per window of a steady stream), so the refusal
    // is learnt from as if nothing were stated.
    if (timing === undefined) return cutRate(state, capacityMilli, factor, atMs, { inBurst: false });
    return timing;
  }
  const cut = mulDivFloor(scale, Math.round(factor * 1_000_000), 1_000_000);
  const bounded = Math.min(FULL_RATE_PERMILLE, Math.max(RATE_SCALE_MIN_PERMILLE, cut));
  if (statedPermille !== undefined) {
    // The vendor says how much it allows, and the scale is above it: that is the ceiling, less
    // the jitter margin a bucket derived from the statement would keep (a bucket paced at exactly
    // the stated rate meets the window's edge again within seconds, and each time waits a hold).
    const stated = statedMargin(statedPermille);
    return {
      rateScalePermille: Math.min(bounded, stated),
      rateScaleAtMs: atMs,
      rateCeilingPermille: stated,
      grantedSinceCutMilli: 0,
      rateProbeDelayMs: RATE_PROBE_MAX_DELAY_MS,
    };
  }
  const neverCut = state.rateScalePermille >= FULL_RATE_PERMILLE;
  const previousCeiling = neverCut ? FULL_RATE_PERMILLE : state.rateCeilingPermille;
  const probing = !neverCut && scale > previousCeiling;
  const young = !neverCut && atMs - state.rateScaleAtMs < RATE_CEILING_YOUNG_MS;
  const learns = (neverCut || state.grantedSinceCutMilli >= capacityMilli) && context.inBurst !== true;
  const learnt = !learns
    ? previousCeiling
    : probing
      ? // The ceiling held for the whole probe delay: the limit is at least that. A vendor with a
        // burst of its own refuses the probe only once that burst is spent, well past the limit,
        // so `S · 950‰` would be too high: keep the ceiling, or 750‰ of S when that is higher.
        Math.max(previousCeiling, mulDivFloor(scale, RATE_CEILING_AFTER_REGAIN_PERMILLE, FULL_RATE_PERMILLE))
      : mulDivFloor(
          scale,
          young && scale < FULL_RATE_PERMILLE
            ? RATE_CEILING_AFTER_REGAIN_PERMILLE
            : RATE_CEILING_AFTER_PROBE_PERMILLE,
          FULL_RATE_PERMILLE,
        );
  const delay = probeDelayMs(state);
  const rateProbeDelayMs = probing && learns ? Math.min(RATE_PROBE_MAX_DELAY_MS, 2 * delay) : delay;
  return {
    rateScalePermille: bounded,
    rateScaleAtMs: atMs,
    rateCeilingPermille: Math.min(FULL_RATE_PERMILLE, Math.max(bounded, learnt)),
    grantedSinceCutMilli: 0,
    rateProbeDelayMs,
  };
}

/**
 * A refusal at or below the stated limit, outside a burst: the grants were paced within the
 * limit, but their arrivals were not (grant-to-arrival jitter larger than the bucket leaves room
 * for, or none left at all when the bucket runs at exactly the stated rate). Holding and
 * restarting the phase alone would meet the same edge every window. So the scale takes a margin
 * below the stated limit, `RATE_TIMING_MARGIN_PERMILLE` of it, as its ceiling, and probes back
 * from there like any ceiling (a refused probe doubles the delay). A refusal in a burst, or
 * inside the margin before a whole bucket was granted at it or after its probe delay, is the
 * window's phase or a moment of jitter and changes nothing. Undefined: refused inside the margin
 * after a whole bucket and within the probe delay of the last cut, so the statement does not
 * explain the refusals, and the caller learns as if nothing were stated.
 */
function timingMargin(
  state: RateScaleState,
  capacityMilli: number,
  scale: number,
  statedPermille: number,
  atMs: number,
  burst: boolean,
): RateScaleState | undefined {
  const margin = statedMargin(statedPermille);
  if (burst) return rateScaleOf(state);
  if (scale <= margin) {
    // Refused again after a whole bucket, before the probe delay of the last cut ran out: a
    // stream inside the margin, not a moment of jitter (those come further apart).
    const marginRefused =
      state.rateScalePermille < FULL_RATE_PERMILLE &&
      state.grantedSinceCutMilli >= capacityMilli &&
      atMs - state.rateScaleAtMs < probeDelayMs(state);
    if (!marginRefused) return rateScaleOf(state);
    // Once, a second margin as deep: on a bucket of one call, "a whole bucket" is one grant, and
    // one late arrival (a loaded host, a cold connection) is not yet a stream the statement
    // does not explain. Refused inside that too, it is one.
    const deeper = statedMargin(margin);
    if (scale <= deeper) return undefined;
    return {
      rateScalePermille: deeper,
      rateScaleAtMs: atMs,
      rateCeilingPermille: deeper,
      grantedSinceCutMilli: 0,
      rateProbeDelayMs: probeDelayMs(state),
    };
  }
  const neverCut = state.rateScalePermille >= FULL_RATE_PERMILLE;
  const probing = !neverCut && scale > state.rateCeilingPermille;
  const delay = probeDelayMs(state);
  return {
    rateScalePermille: margin,
    rateScaleAtMs: atMs,
    rateCeilingPermille: margin,
    grantedSinceCutMilli: 0,
    rateProbeDelayMs: probing ? Math.min(RATE_PROBE_MAX_DELAY_MS, 2 * delay) : delay,
  };
}

/** `RATE_TIMING_MARGIN_PERMILLE` of a stated limit (permille of the configured rate), at least the floor. */
function statedMargin(statedPermille: number): number {
  return Math.max(
    RATE_SCALE_MIN_PERMILLE,
    mulDivFloor(Math.floor(statedPermille), RATE_TIMING_MARGIN_PERMILLE, FULL_RATE_PERMILLE),
  );
}

function rateScaleOf(state: RateScaleState): RateScaleState {
  const { rateScalePermille, rateScaleAtMs, rateCeilingPermille, grantedSinceCutMilli, rateProbeDelayMs } =
    state;
  return {
    rateScalePermille,
    rateScaleAtMs,
    rateCeilingPermille,
    grantedSinceCutMilli,
    ...(rateProbeDelayMs === undefined ? {} : { rateProbeDelayMs }),
  };
}

/**
 * The grant count after `costMilli` more units are taken: it only needs to reach the capacity,
 * and only once the bucket has been cut (before that, every cut learns a ceiling anyway).
 */
export function countGrant(state: RateScaleState, capacityMilli: number, costMilli: number): number {
  if (state.rateScalePermille >= FULL_RATE_PERMILLE) return state.grantedSinceCutMilli;
  return Math.min(capacityMilli, state.grantedSinceCutMilli + costMilli);
}
