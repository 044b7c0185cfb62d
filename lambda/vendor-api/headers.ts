/**
 * Reading the vendor's pacing headers: Retry-After (RFC 9110: delta-seconds or an HTTP
 * date) and the rate-limit counts (OpenAI, Anthropic, IETF RateLimit). Pure: the caller
 * passes the clock reading.
 */

import { type FieldMember, type FieldValue, nonNegative, parseFieldList } from './rate-limit-fields';

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

/**
 * The vendor's own count of what is left, per kind of limit, read from whichever pacing
 * headers it sends: OpenAI's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`, and the
 * IETF `RateLimit` / `RateLimit-Policy` fields (the combined forms and the older
 * `RateLimit-Limit` / `-Remaining` / `-Reset` triplet). Each field only when present and
 * readable; resets are seconds from the answer. Where several headers speak of one kind, the
 * one with the least remaining wins: it is the limit that binds first.
 */
export interface RateLimitHeaders {
  limitRequests?: number;
  /**
   * The window the stated request limit counts over, in seconds: the IETF policy's `w`, or 60
   * for OpenAI's and Anthropic's per-minute limits. With `limitRequests`, the rate the vendor
   * says it allows (`statedRatePerSecond`).
   */
  limitRequestsWindowSeconds?: number;
  remainingRequests?: number;
  resetRequestsSeconds?: number;
  limitTokens?: number;
  /** The window of `limitTokens`, in seconds (60 for OpenAI's and Anthropic's per-minute limits). */
  limitTokensWindowSeconds?: number;
  remainingTokens?: number;
  resetTokensSeconds?: number;
  /** Anthropic counts input and output tokens apart, beside the combined (most restrictive) count. */
  limitInputTokens?: number;
  remainingInputTokens?: number;
  resetInputTokensSeconds?: number;
  limitOutputTokens?: number;
  remainingOutputTokens?: number;
  resetOutputTokensSeconds?: number;
}

type LimitKind = 'Requests' | 'Tokens' | 'InputTokens' | 'OutputTokens';

/** One header family's reading of one kind of limit. */
interface Reading {
  limit?: number;
  windowSeconds?: number;
  remaining?: number;
  resetSeconds?: number;
}

/** Reads every pacing header family the answer carries; `nowMs` turns Anthropic's reset dates into seconds. */
export function readRateLimitHeaders(headers: Headers, nowMs: number): RateLimitHeaders {
  const readings: [LimitKind, Reading][] = [
    ['Requests', openAi(headers, 'requests')],
    ['Tokens', openAi(headers, 'tokens')],
    ['Requests', anthropic(headers, 'requests', nowMs)],
    ['Tokens', anthropic(headers, 'tokens', nowMs)],
    ['InputTokens', anthropic(headers, 'input-tokens', nowMs)],
    ['OutputTokens', anthropic(headers, 'output-tokens', nowMs)],
    ['Requests', ietfRateLimit(headers)],
  ];
  const chosen = new Map<LimitKind, Reading>();
  for (const [kind, reading] of readings) {
    if (isEmpty(reading)) continue;
    const held = chosen.get(kind);
    if (held === undefined || bindsFirst(reading, held)) chosen.set(kind, reading);
  }
  const result: RateLimitHeaders = {};
  for (const [kind, reading] of chosen) {
    if (reading.limit !== undefined) result[`limit${kind}`] = reading.limit;
    if (reading.limit !== undefined && reading.windowSeconds !== undefined) {
      if (kind === 'Requests') result.limitRequestsWindowSeconds = reading.windowSeconds;
      if (kind === 'Tokens') result.limitTokensWindowSeconds = reading.windowSeconds;
    }
    if (reading.remaining !== undefined) result[`remaining${kind}`] = reading.remaining;
    if (reading.resetSeconds !== undefined) result[`reset${kind}Seconds`] = reading.resetSeconds;
  }
  return result;
}

function isEmpty(reading: Reading): boolean {
  return reading.limit === undefined && reading.remaining === undefined && reading.resetSeconds === undefined;
}

/** A reading with a count beats one without; of two counts, the smaller binds first. */
function bindsFirst(candidate: Reading, held: Reading): boolean {
  if (candidate.remaining === undefined) return false;
  return held.remaining === undefined || candidate.remaining < held.remaining;
}

/** OpenAI: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as Go durations. */
function openAi(headers: Headers, kind: 'requests' | 'tokens'): Reading {
  return {
    limit: count(headers.get(`x-ratelimit-limit-${kind}`)),
    // OpenAI documents its request and token limits per minute (RPM, TPM).
    windowSeconds: PER_MINUTE,
    remaining: count(headers.get(`x-ratelimit-remaining-${kind}`)),
    resetSeconds: parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`)),
  };
}

/** Anthropic: `anthropic-ratelimit-{kind}-{limit,remaining,reset}`, resets as RFC 3339 instants. */
function anthropic(headers: Headers, kind: string, nowMs: number): Reading {
  return {
    limit: count(headers.get(`anthropic-ratelimit-${kind}-limit`)),
    // Anthropic documents its limits per minute (RPM, ITPM, OTPM).
    windowSeconds: PER_MINUTE,
    remaining: count(headers.get(`anthropic-ratelimit-${kind}-remaining`)),
    resetSeconds: secondsUntil(headers.get(`anthropic-ratelimit-${kind}-reset`), nowMs),
  };
}

const PER_MINUTE = 60;

function secondsUntil(value: string | null, nowMs: number): number | undefined {
  if (value === null || !/^\d{4}-\d{2}-\d{2}T/.test(value.trim())) return undefined;
  const atMs = Date.parse(value.trim());
  if (Number.isNaN(atMs)) return undefined;
  return Math.max(0, Math.round(atMs - nowMs) / 1000);
}

/**
 * The IETF fields, counted in requests. Three generations are in use:
 * - the older triplet `RateLimit-Limit: 3`, `RateLimit-Remaining: 2`, `RateLimit-Reset: 1`;
 * - one combined dictionary, `RateLimit: limit=3, remaining=2, reset=1` with `RateLimit-Policy: 3;w=1`;
 * - named policies, `RateLimit-Policy: "burst"; q=3; w=1` with `RateLimit: "burst"; r=2; t=1`,
 *   several per field. A policy whose quota unit (`qu`) is not requests (content bytes,
 *   concurrent requests) is not a request rate and is left out; of the rest, the one with
 *   the least remaining is read.
 */
function ietfRateLimit(headers: Headers): Reading {
  const combined = parseFieldList(headers.get('ratelimit'));
  const policies = parseFieldList(headers.get('ratelimit-policy'));
  const named = combined.filter((member) => member.key === undefined && typeof member.value === 'string');
  if (named.length > 0) return namedPolicy(named, policies);
  const dictionary = new Map(combined.filter((m) => m.key !== undefined).map((m) => [m.key, m.value]));
  const firstPolicy = policies[0]?.key === undefined ? policies[0] : undefined;
  const firstPolicyLimit = nonNegative(firstPolicy?.value);
  const windowSeconds = positive(firstPolicy?.params.w);
  if (dictionary.size > 0) {
    return {
      limit: nonNegative(dictionary.get('limit')) ?? firstPolicyLimit,
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
      remaining: nonNegative(dictionary.get('remaining')),
      resetSeconds: nonNegative(dictionary.get('reset')),
    };
  }
  const first = (name: string) => nonNegative(parseFieldList(headers.get(name))[0]?.value);
  return {
    limit: first('ratelimit-limit') ?? firstPolicyLimit,
    ...(windowSeconds === undefined ? {} : { windowSeconds }),
    remaining: first('ratelimit-remaining'),
    resetSeconds: first('ratelimit-reset'),
  };
}

function namedPolicy(current: FieldMember[], policies: FieldMember[]): Reading {
  let best: Reading = {};
  for (const member of current) {
    const policy = policies.find((p) => p.key === undefined && p.value === member.value);
    const unit = policy?.params.qu ?? member.params.qu ?? 'requests';
    if (unit !== 'requests') continue;
    const windowSeconds = positive(policy?.params.w);
    const reading: Reading = {
      limit: nonNegative(policy?.params.q),
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
      remaining: nonNegative(member.params.r),
      resetSeconds: nonNegative(member.params.t),
    };
    if (isEmpty(best) || bindsFirst(reading, best)) best = reading;
  }
  return best;
}

function positive(value: FieldValue | undefined): number | undefined {
  const n = nonNegative(value);
  return n !== undefined && n > 0 ? n : undefined;
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

/**
 * The rate the vendor states for one kind of limit, in units per second: the limit over its
 * window, when the answer says both and the limit is above 0.
 */
export function statedRatePerSecond(
  rateLimit: RateLimitHeaders,
  kind: 'requests' | 'tokens',
): number | undefined {
  const limit = kind === 'requests' ? rateLimit.limitRequests : rateLimit.limitTokens;
  const windowSeconds =
    kind === 'requests' ? rateLimit.limitRequestsWindowSeconds : rateLimit.limitTokensWindowSeconds;
  if (limit === undefined || windowSeconds === undefined || !(limit > 0 && windowSeconds > 0))
    return undefined;
  return limit / windowSeconds;
}
