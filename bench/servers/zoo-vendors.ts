import { TokenBucket } from 'limiter';
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';

/**
 * The vendors of the zoo (`npm run bench -- --vendors`), each a limiter library as real APIs
 * run it, not an imitation: `rate-limiter-flexible`'s RateLimiterMemory (a fixed window that
 * starts at the first request after the previous one ended, the model of express-rate-limit's
 * and most Node APIs' memory stores) and `limiter`'s TokenBucket (the model OpenAI documents:
 * a bucket of `rpm` requests and one of `tpm` tokens, refilled continuously, with its
 * `x-ratelimit-*` headers). Every arrival is logged with what the library said, so what is
 * "above the limit" is counted by the vendor, in its own window.
 */
export interface Admission {
  readonly ok: boolean;
  readonly headers: Record<string, string>;
}

export interface Arrival {
  readonly atMs: number;
  readonly ok: boolean;
  /** The vendor's own window this arrival counted in (fixed window: its start; token bucket: none). */
  readonly windowStartMs?: number;
}

export type ZooKind =
  | 'fixed-window-anchored'
  | 'fixed-window-clock'
  | 'sliding-log'
  | 'sliding-counter'
  | 'token-bucket-openai';

export interface ZooVendor {
  readonly kind: ZooKind;
  /** The limit as the vendor publishes it (what the bench configures the buckets from). */
  readonly published: { readonly requests: number; readonly perSeconds: number; readonly tokens?: number };
  /** Tokens one call takes (the token bucket's `tpm`); 0 for request limits. */
  readonly tokensPerCall: number;
  readonly arrivals: readonly Arrival[];
  admit(nowMs: number): Promise<Admission>;
  /** Seconds (since the first arrival) in which the vendor counted more than its limit. */
  secondsAboveLimit(): number;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
/** Window starts this close are the same window read twice, not two windows. */
const SAME_WINDOW_MS = 20;

/** RateLimiterMemory of `requests` per `perSeconds`, anchored at the first request after each reset. */
export function anchoredFixedWindow(requests: number, perSeconds: number): ZooVendor {
  const limiter = new RateLimiterMemory({ points: requests, duration: perSeconds });
  const arrivals: Arrival[] = [];
  const policy = `"${requests}-in-${perSeconds}sec"`;
  return {
    kind: 'fixed-window-anchored',
    published: { requests, perSeconds },
    tokensPerCall: 0,
    arrivals,
    async admit(nowMs) {
      let res: RateLimiterRes;
      let ok = true;
      try {
        res = await limiter.consume('key');
      } catch (refused) {
        if (!(refused instanceof Error) && refused && typeof refused === 'object') {
          res = refused as RateLimiterRes;
          ok = false;
        } else throw refused;
      }
      // The window ends msBeforeNext from the library's own clock (the real one); it started
      // perSeconds before that. Read the same clock, so time spent before this line moves nothing.
      const windowStartMs = Math.round(Date.now() + res.msBeforeNext - perSeconds * 1000);
      arrivals.push({ atMs: nowMs, ok, windowStartMs });
      const headers: Record<string, string> = {
        'ratelimit-policy': `${policy}; q=${requests}; w=${perSeconds}`,
        ratelimit: `${policy}; r=${Math.max(0, res.remainingPoints)}; t=${seconds(res.msBeforeNext)}`,
      };
      if (!ok) headers['retry-after'] = String(seconds(res.msBeforeNext));
      return { ok, headers };
    },
    secondsAboveLimit() {
      // The vendor's own windows: the requests each one counted (refused ones too) against the limit.
      // Starts read a millisecond or two apart (two clock readings) are one window.
      const counted = new Map<number, number>();
      const starts = arrivals.map((arrival) => arrival.windowStartMs ?? 0).sort((a, b) => a - b);
      let window = Number.NEGATIVE_INFINITY;
      for (const start of starts) {
        if (start - window > SAME_WINDOW_MS) window = start;
        counted.set(window, (counted.get(window) ?? 0) + 1);
      }
      const first = arrivals[0]?.atMs ?? 0;
      const over = new Set<number>();
      for (const [start, count] of counted) {
        if (count > requests) over.add(Math.floor((Math.max(start, first) - first) / 1000));
      }
      return over.size;
    },
  };
}

/**
 * `limiter`'s TokenBucket twice, as OpenAI documents its limits: `rpm` requests and `tpm` tokens
 * a minute, each bucket full at the start and refilled continuously; a call takes one request and
 * `tokensPerCall` tokens, or neither. Headers: `x-ratelimit-limit-*`, `-remaining-*`, `-reset-*`.
 */
export function openAiTokenBuckets(rpm: number, tpm: number, tokensPerCall: number): ZooVendor {
  const requests = new TokenBucket({ bucketSize: rpm, tokensPerInterval: rpm, interval: 'minute' });
  const tokens = new TokenBucket({ bucketSize: tpm, tokensPerInterval: tpm, interval: 'minute' });
  requests.content = rpm;
  tokens.content = tpm;
  const arrivals: Arrival[] = [];
  const resetText = (missing: number, perMinute: number) =>
    `${Math.max(0, (missing / perMinute) * 60).toFixed(3)}s`;
  return {
    kind: 'token-bucket-openai',
    published: { requests: rpm, perSeconds: 60, tokens: tpm },
    tokensPerCall,
    arrivals,
    async admit(nowMs) {
      requests.drip();
      tokens.drip();
      const ok = requests.content >= 1 && tokens.content >= tokensPerCall;
      if (ok) {
        requests.content -= 1;
        tokens.content -= tokensPerCall;
      }
      arrivals.push({ atMs: nowMs, ok });
      const headers: Record<string, string> = {
        'x-ratelimit-limit-requests': String(rpm),
        'x-ratelimit-limit-tokens': String(tpm),
        'x-ratelimit-remaining-requests': String(Math.floor(requests.content)),
        'x-ratelimit-remaining-tokens': String(Math.floor(tokens.content)),
        'x-ratelimit-reset-requests': resetText(rpm - requests.content, rpm),
        'x-ratelimit-reset-tokens': resetText(tpm - tokens.content, tpm),
      };
      if (!ok) {
        const waitS = Math.max(
          (1 - requests.content) / (rpm / 60),
          (tokensPerCall - tokens.content) / (tpm / 60),
        );
        headers['retry-after'] = String(seconds(waitS * 1000));
      }
      return { ok, headers };
    },
    secondsAboveLimit() {
      // A bucket has no window: a second holding a refusal is a second the callers asked above it.
      const first = arrivals[0]?.atMs ?? 0;
      return new Set(arrivals.filter((a) => !a.ok).map((a) => Math.floor((a.atMs - first) / 1000))).size;
    },
  };
}

/**
 * The window algorithms no Redis-free Node library ships (the ones that do, such as
 * `@upstash/ratelimit`, run them as Lua scripts on Redis), written here from their published
 * definitions, one counter each: a fixed window on clock boundaries (`floor(now / window)`, as
 * Upstash's `fixedWindow` keys it), a sliding log (every request of the last window counts),
 * and the sliding counter Cloudflare describes (the previous window's count weighted by the
 * share of it still inside the sliding window, plus the current one). Admitted requests count,
 * whatever their answer (a 500 too); refused ones do not.
 */
export function windowCounter(
  kind: 'fixed-window-clock' | 'sliding-log' | 'sliding-counter',
  requests: number,
  perSeconds: number,
): ZooVendor {
  const windowMs = perSeconds * 1000;
  const arrivals: Arrival[] = [];
  /** Arrivals (admitted or not) that the vendor still counts, per its definition. */
  const counted = (nowMs: number): number => {
    if (kind === 'sliding-log') return arrivals.filter((a) => a.ok && a.atMs > nowMs - windowMs).length;
    const current = Math.floor(nowMs / windowMs);
    const inWindow = (index: number) =>
      arrivals.filter((a) => a.ok && Math.floor(a.atMs / windowMs) === index).length;
    if (kind === 'fixed-window-clock') return inWindow(current);
    const elapsed = (nowMs - current * windowMs) / windowMs;
    return inWindow(current - 1) * (1 - elapsed) + inWindow(current);
  };
  const resetMs = (nowMs: number): number => {
    if (kind !== 'sliding-log') return (Math.floor(nowMs / windowMs) + 1) * windowMs - nowMs;
    const inside = arrivals.filter((a) => a.ok && a.atMs > nowMs - windowMs);
    const oldest = inside[0]?.atMs ?? nowMs;
    return oldest + windowMs - nowMs;
  };
  const policy = `"${requests}-in-${perSeconds}sec"`;
  return {
    kind,
    published: { requests, perSeconds },
    tokensPerCall: 0,
    arrivals,
    async admit(nowMs) {
      const used = counted(nowMs);
      const ok = used + 1 <= requests;
      const windowStartMs =
        kind === 'sliding-log' ? nowMs - windowMs : Math.floor(nowMs / windowMs) * windowMs;
      arrivals.push({ atMs: nowMs, ok, windowStartMs });
      const reset = resetMs(nowMs);
      const headers: Record<string, string> = {
        'ratelimit-policy': `${policy}; q=${requests}; w=${perSeconds}`,
        ratelimit: `${policy}; r=${Math.max(0, Math.floor(requests - used - (ok ? 1 : 0)))}; t=${seconds(reset)}`,
      };
      if (!ok) headers['retry-after'] = String(seconds(reset));
      return { ok, headers };
    },
    secondsAboveLimit() {
      // Requests asked in the vendor's own window beyond its limit: an arrival that found the
      // window full. The counters admit nothing above it, so each is a refusal; counted per second.
      const first = arrivals[0]?.atMs ?? 0;
      return new Set(arrivals.filter((a) => !a.ok).map((a) => Math.floor((a.atMs - first) / 1000))).size;
    },
  };
}
