/**
 * A fixed-window limit as `express-rate-limit` keeps it (its default memory store): `limit`
 * requests per window of `windowMs`, the first window starting at the first request, one key
 * for every caller. Every answer carries the standard headers in the form express-rate-limit
 * writes with `standardHeaders: 'draft-8'` (`RateLimit-Policy: "3-in-1sec"; q=3; w=1` and
 * `RateLimit: "3-in-1sec"; r=2; t=1`); a refusal adds `Retry-After` in whole seconds until the
 * window ends. It also counts requests that arrive before a `Retry-After` it sent has expired:
 * a vendor that locks a client out until then would refuse those too. Pure: the caller passes
 * the instant.
 */
export class FixedWindowLimit {
  private startMs: number | undefined;
  private index = -1;
  private used = 0;
  private retryAfterUntilMs = Number.NEGATIVE_INFINITY;
  /** Requests received before a Retry-After sent earlier had expired. */
  earlyRequests = 0;
  private readonly policyName: string;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {
    if (!(Number.isInteger(limit) && limit > 0 && Number.isInteger(windowMs) && windowMs > 0))
      throw new Error(
        `a fixed window needs a positive integer limit and window (got ${limit} per ${windowMs} ms)`,
      );
    this.policyName = `${limit}-in-${windowMs % 1000 === 0 ? `${windowMs / 1000}sec` : `${windowMs}ms`}`;
  }

  /** Counts the request at `nowMs` in its window; refused past the limit. */
  admit(nowMs: number): { readonly ok: boolean; readonly headers: Record<string, string> } {
    if (nowMs < this.retryAfterUntilMs) this.earlyRequests += 1;
    this.startMs ??= nowMs;
    const index = Math.floor((nowMs - this.startMs) / this.windowMs);
    if (index !== this.index) {
      this.index = index;
      this.used = 0;
    }
    const resetMs = this.startMs + (index + 1) * this.windowMs - nowMs;
    const resetSeconds = Math.max(1, Math.ceil(resetMs / 1000));
    const ok = this.used < this.limit;
    if (ok) this.used += 1;
    const windowSeconds = Math.max(1, Math.ceil(this.windowMs / 1000));
    const headers: Record<string, string> = {
      'ratelimit-policy': `"${this.policyName}"; q=${this.limit}; w=${windowSeconds}`,
      ratelimit: `"${this.policyName}"; r=${this.limit - this.used}; t=${resetSeconds}`,
    };
    if (!ok) {
      headers['retry-after'] = String(resetSeconds);
      this.retryAfterUntilMs = Math.max(this.retryAfterUntilMs, nowMs + resetSeconds * 1000);
    }
    return { ok, headers };
  }
}

/** A fixed window as the simulator takes it (`SimulatorOptions.fixedWindow`). */
export interface FixedWindowSpec {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** `fixed` alone: the express-rate-limit vendor of the benchmark, 3 requests per 1 s window. */
export const DEFAULT_FIXED_WINDOW: FixedWindowSpec = { limit: 3, windowSeconds: 1 };
/** The largest window and limit a spec may ask for: an hour, and 10,000 requests in it. */
export const MAX_FIXED_WINDOW_SECONDS = 3_600;
export const MAX_FIXED_WINDOW_LIMIT = 10_000;

/**
 * Reads a fixed-window spec as `npm start -- --vendor-window` and the simulator's own command
 * take it: `fixed` (3 per 1 s) or `fixed:N/S`, N requests per window of S seconds (a whole
 * number of ms, e.g. `fixed:5/1`, `fixed:100/60`, `fixed:1/0.25`). Returns the spec or the
 * problem, naming what was given.
 */
export function parseFixedWindowSpec(
  text: string,
): { readonly spec: FixedWindowSpec } | { readonly problem: string } {
  const expected = `"fixed" (3 per 1 s) or "fixed:N/S", N requests per window of S seconds (got "${text}")`;
  if (text === 'fixed') return { spec: DEFAULT_FIXED_WINDOW };
  const match = /^fixed:(\d+)\/(\d+(?:\.\d+)?)$/.exec(text);
  if (!match) return { problem: `must be ${expected}` };
  const limit = Number(match[1]);
  const windowSeconds = Number(match[2]);
  const windowMs = windowSeconds * 1000;
  if (!(limit >= 1 && limit <= MAX_FIXED_WINDOW_LIMIT)) {
    return { problem: `needs N from 1 to ${MAX_FIXED_WINDOW_LIMIT} (got "${text}")` };
  }
  if (!(windowSeconds > 0 && windowSeconds <= MAX_FIXED_WINDOW_SECONDS)) {
    return { problem: `needs S above 0 and at most ${MAX_FIXED_WINDOW_SECONDS} seconds (got "${text}")` };
  }
  if (Math.abs(windowMs - Math.round(windowMs)) > 1e-6) {
    return { problem: `needs S to a whole number of milliseconds (got "${text}")` };
  }
  return { spec: { limit, windowSeconds } };
}
