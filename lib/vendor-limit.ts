/**
 * A bucket declared in the vendor's own words (`vendorLimit`: "3 requests per 1 s, fixed
 * window"), turned into the token bucket that never exceeds it: capacity (the burst) and
 * windowSeconds (capacity / rate). Pure; the argument is in docs/design.md, "Limits in the
 * vendor's words", and the advice for users in docs/deploy.md, "Matching the vendor's limit".
 *
 * With J the grant-to-arrival jitter margin, u the units of the largest single call and L per W
 * the stated limit:
 * - windowed (`fixed-window`, `sliding-window`, and `unknown`): burst u, rate
 *   (L − u + 1) / (W + J) for requests, (L − u) / (W + J) for tokens: any interval of W + J
 *   (a vendor window, widened by the jitter) then holds at most L units of grants;
 * - `sliding-counter` (the previous window's count weighted by its share still inside the
 *   sliding window, plus the current one and the request, compared with L unrounded): burst u,
 *   rate (L − u) / (W + J), or one call every 2 W + J when that is faster (L below 2 u). The
 *   weighted estimate is below what the bucket grants in W + J, so it stays under L; a request
 *   is no whole unit there, since the weighted count is not whole;
 * - `token-bucket` with burst B: the vendor's rate L / W, burst B − ⌈(L / W) · J⌉ (what the
 *   vendor refills while a late first call is on its way), or, when that leaves less than one
 *   call, a burst of one call at a rate slowed so the jitter still fits.
 */

export const COUNTINGS = [
  'fixed-window',
  'sliding-window',
  'sliding-counter',
  'token-bucket',
  'unknown',
] as const;
export type Counting = (typeof COUNTINGS)[number];

/** The spread of grant-to-arrival delays a derived bucket leaves room for, unless told otherwise. */
export const DEFAULT_JITTER_SECONDS = 0.05;

export interface VendorLimit {
  readonly requests?: number | undefined;
  readonly tokens?: number | undefined;
  readonly perSeconds: number;
  readonly counting: Counting;
  /** The vendor's own burst: `token-bucket` only. */
  readonly burst?: number | undefined;
  readonly jitterSeconds?: number | undefined;
}

export interface DerivedBucket {
  readonly limitType: 'requests' | 'tokens';
  readonly capacity: number;
  readonly windowSeconds: number;
  /** One line saying what was derived and why, printed by synth and `npm start`. */
  readonly line: string;
}

/** `seconds` rounded up to the millisecond (a slightly slower rate is the safe side). */
function ceilToMs(seconds: number): number {
  return Math.ceil(seconds * 1000 - 1e-6) / 1000;
}

/**
 * The bucket for `limit` on `dimension`, one call taking up to `callUnits` units; or the
 * problem that makes it impossible (one call larger than the limit, or than the vendor's burst).
 */
export function deriveBucket(
  dimension: string,
  limit: VendorLimit,
  callUnits: number,
): { readonly bucket: DerivedBucket } | { readonly problem: string } {
  const limitType = limit.tokens !== undefined ? 'tokens' : 'requests';
  const L = (limit.tokens ?? limit.requests) as number;
  const W = limit.perSeconds;
  const J = limit.jitterSeconds ?? DEFAULT_JITTER_SECONDS;
  const u = Math.max(1, Math.ceil(callUnits));
  // One request is a whole unit: a burst of one plus L − 1 refills is L in a window.
  const grain = limitType === 'requests' ? 1 : 0;
  let capacity: number;
  let rate: number;
  let why: string;
  if (limit.counting === 'token-bucket') {
    const B = limit.burst as number;
    if (B < u)
      return { problem: `burst ${B} is smaller than one call (${u} ${limitType}): no call could pass` };
    const vendorRate = L / W;
    const margin = Math.ceil(vendorRate * J - 1e-9);
    if (B - margin >= u) {
      capacity = B - margin;
      rate = vendorRate;
      why = `the vendor's burst ${B} less ${margin} for ${J} s of jitter, its rate`;
    } else {
      capacity = u;
      const spaced = u / ((u * W) / L + J);
      const fromBurst = J > 0 ? (B - u) / J : vendorRate;
      rate = Math.min(vendorRate, Math.max(spaced, fromBurst));
      why = `the vendor's burst ${B} leaves no room for ${J} s of jitter: one call, spaced by the jitter`;
    }
  } else if (limit.counting === 'sliding-counter') {
    if (L < u)
      return { problem: `one call (${u} ${limitType}) is more than the limit ${L}: no call could pass` };
    capacity = u;
    // Calls 2 W + J apart find both the previous and the current window empty.
    const weighted = (L - u) / (W + J);
    const spaced = u / (2 * W + J);
    rate = Math.max(weighted, spaced);
    why =
      weighted >= spaced
        ? `burst of one call, ${J} s of jitter in every window, one call less per window for the weighted count`
        : `one call every two windows and ${J} s: the weighted count leaves no room for two`;
  } else {
    if (L - u + grain <= 0)
      return { problem: `one call (${u} ${limitType}) is not less than the limit ${L}: no call could pass` };
    capacity = u;
    rate = (L - u + grain) / (W + J);
    why = `burst of one call, ${J} s of jitter in every window${limit.counting === 'unknown' ? ', safe for windows and token buckets' : ''}`;
  }
  const windowSeconds = ceilToMs(capacity / rate);
  const effective = capacity / windowSeconds;
  const share = (100 * effective * W) / L;
  return {
    bucket: {
      limitType,
      capacity,
      windowSeconds,
      line:
        `${dimension}: vendor ${L} ${limitType} per ${W} s, ${limit.counting} → capacity ${capacity}, windowSeconds ${windowSeconds} ` +
        `(${round(effective)}/s, ${share.toFixed(1)} % of the limit; ${why})`,
    },
  };
}

function round(value: number): string {
  return value >= 100 ? value.toFixed(1) : value.toFixed(3);
}
