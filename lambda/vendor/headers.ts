/**
 * Reading the vendor's pacing headers: Retry-After (RFC 9110: delta-seconds or an HTTP
 * date) and OpenAI's `x-ratelimit-*`. Pure: the caller passes the clock reading.
 */

/**
 * Seconds to wait from a Retry-After value, or undefined when absent or unreadable.
 * Bounded by `maxSeconds` (a vendor bug must not park a message for a day) and never
 * negative (an HTTP date in the past means "now").
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
  maxSeconds: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    seconds = Number(text);
  } else {
    // Only a date with letters in it: Date.parse accepts bare numbers like "12" as years.
    if (!/[a-z]/i.test(text)) return undefined;
    const atMs = Date.parse(text);
    if (Number.isNaN(atMs)) return undefined;
    seconds = (atMs - nowMs) / 1000;
  }
  return Math.min(Math.max(seconds, 0), maxSeconds);
}

/** OpenAI-style limits read from `x-ratelimit-*` headers; each field only when present and readable. */
export interface RateLimitHeaders {
  limitRequests?: number;
  remainingRequests?: number;
  resetRequestsSeconds?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensSeconds?: number;
}

export function readRateLimitHeaders(headers: Headers): RateLimitHeaders {
  const result: RateLimitHeaders = {};
  const set = (field: keyof RateLimitHeaders, value: number | undefined) => {
    if (value !== undefined) result[field] = value;
  };
  set('limitRequests', count(headers.get('x-ratelimit-limit-requests')));
  set('remainingRequests', count(headers.get('x-ratelimit-remaining-requests')));
  set('resetRequestsSeconds', parseResetDuration(headers.get('x-ratelimit-reset-requests')));
  set('limitTokens', count(headers.get('x-ratelimit-limit-tokens')));
  set('remainingTokens', count(headers.get('x-ratelimit-remaining-tokens')));
  set('resetTokensSeconds', parseResetDuration(headers.get('x-ratelimit-reset-tokens')));
  return result;
}

function count(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/**
 * OpenAI writes reset times as Go durations: "1s", "6m0s", "20ms", "1h2m3.5s". A bare
 * number is taken as seconds. Anything else is unreadable (undefined), never a guess.
 */
export function parseResetDuration(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(text)) return undefined;
  let seconds = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    seconds += Number(part[1]) * (UNIT_SECONDS[part[2] ?? 's'] ?? 1);
  }
  // Round away float noise from the millisecond unit (0.02 + 1 = 1.0200000000000002).
  return Math.round(seconds * 1000) / 1000;
}
