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
