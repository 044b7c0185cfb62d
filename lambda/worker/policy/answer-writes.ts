import { PenaltyFactor } from '../../sluice';
import type { VendorCallResult } from '../../vendor-api/client';
import { type RateLimitHeaders, statedRatePerSecond } from '../../vendor-api/headers';
import type { WorkerPolicy } from '../../worker-settings';
import type { TokenDimensionTest } from './costs';

/**
 * What a vendor's answer to a granted call asks of the buckets, as pure functions: the token
 * usage to settle and the vendor's remaining counts to resynchronise after a 2xx, the buckets to
 * penalize and by how much after a 429. The pipeline carries them out (vendor-call.ts).
 */

/** One penalty after a 429: the bucket, its factor, the Retry-After hold and the limit the answer states. */
export interface Penalty {
  readonly dimension: string;
  readonly factor: number;
  readonly holdSeconds: number;
  readonly statedLimitPerSecond?: number;
}

/** The bucket writes an answer asks for; every one is best effort (vendor-call.ts). */
export interface BucketWrites {
  /** The token usage the answer reported, to settle against the estimate (a 2xx). */
  readonly settle?: Record<string, number>;
  /** The vendor's remaining counts, per dimension (a 2xx). */
  readonly resyncs: readonly (readonly [dimension: string, remaining: number])[];
  /** The buckets that let a 429 through. */
  readonly penalties: readonly Penalty[];
}

/**
 * The writes for one answer. A 2xx settles the token estimate and resynchronises the buckets
 * from the vendor's counts; a 429 penalizes the time dimensions that let it through, each by
 * `penaltyFactor` (`previous429` notes this 429 and answers when the one before it came). A
 * Retry-After (or, without one, the stated reset of a spent limit) holds the bucket itself, so
 * no worker or product calls before it expires.
 */
export function bucketWrites(
  costs: Readonly<Record<string, number>>,
  dimensions: GrantedDimensions,
  answer: Pick<VendorCallResult, 'class' | 'body' | 'rateLimit' | 'latencyMs' | 'retryAfterSeconds'>,
  penalty: {
    readonly nowMs: number;
    readonly policy: WorkerPolicy;
    readonly previous429: (dimension: string) => number | undefined;
  },
): BucketWrites {
  const { isTokens, leased } = dimensions;
  if (answer.class === 'success') {
    const settle = settlement(costs, answer.body, isTokens);
    const resyncs = resyncTargets(costs, leased, answer.rateLimit, isTokens, answer.latencyMs);
    return { ...(settle ? { settle } : {}), resyncs, penalties: [] };
  }
  if (answer.class !== 'rate_limited') return { resyncs: [], penalties: [] };
  const penalties = penaltyTargets(costs, leased, answer.rateLimit, isTokens).map((dimension): Penalty => {
    const factor = penaltyFactor(
      answer.retryAfterSeconds,
      penalty.previous429(dimension),
      penalty.nowMs,
      penalty.policy,
    );
    const stated = statedLimitOf(dimension, answer.rateLimit, isTokens);
    const holdSeconds = answer.retryAfterSeconds ?? stated.resetSeconds ?? 0;
    return stated.perSecond === undefined
      ? { dimension, factor, holdSeconds }
      : { dimension, factor, holdSeconds, statedLimitPerSecond: stated.perSecond };
  });
  return { resyncs: [], penalties };
}

/**
 * After a vendor 429: the factor for `penalize`. A long Retry-After says the vendor is far
 * over (0.3); a second 429 inside the window says the first penalty was not enough (0.5).
 */
export function penaltyFactor(
  retryAfterSeconds: number | undefined,
  lastRateLimitAtMs: number | undefined,
  nowMs: number,
  policy: WorkerPolicy,
): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds > policy.longRetryAfterSeconds) {
    return PenaltyFactor.longRetryAfter;
  }
  if (
    lastRateLimitAtMs !== undefined &&
    nowMs - lastRateLimitAtMs <= policy.repeated429WindowSeconds * 1000
  ) {
    return PenaltyFactor.repeatedRateLimit;
  }
  return PenaltyFactor.firstRateLimit;
}

/**
 * The limit the vendor's answer states for a dimension's kind, in units per second, and when a
 * spent one resets: tokens for token dimensions, requests for the unkeyed time dimensions (as
 * `resyncTargets` reads the counts: a keyed one, like a per-location limit, is not what the
 * vendor's global header counts).
 */
export function statedLimitOf(
  dimension: string,
  rateLimit: RateLimitHeaders,
  isTokens: TokenDimensionTest,
): { readonly perSecond?: number; readonly resetSeconds?: number } {
  const tokens = isTokens(dimension);
  if (!tokens && dimension.split('#').length !== 2) return {};
  const perSecond = statedRatePerSecond(rateLimit, tokens ? 'tokens' : 'requests');
  const remaining = tokens ? rateLimit.remainingTokens : rateLimit.remainingRequests;
  const reset = tokens ? rateLimit.resetTokensSeconds : rateLimit.resetRequestsSeconds;
  return {
    ...(perSecond === undefined ? {} : { perSecond }),
    ...(remaining === 0 && reset !== undefined && reset > 0 ? { resetSeconds: reset } : {}),
  };
}

/**
 * What a grant's dimensions are, read once per grant from the SDK's answer (the buckets it took
 * from, not the worker's guess): which count tokens, which hold a lease (`concurrent`), and the
 * `requests` costs left over (neither), which a repeat of the call acquires again. Settle,
 * resync, the 429 narrowing and the repeat grant all ask this one view.
 */
export interface GrantedDimensions {
  readonly isTokens: TokenDimensionTest;
  /** The dimensions held as leases (`concurrent`): never penalized or resynchronised. */
  readonly leased: readonly string[];
  /** The `requests` dimensions of the grant at the costs it took: neither tokens nor leased. */
  readonly requestCosts: Readonly<Record<string, number>>;
}

/** `usage.total_tokens` of an OpenAI-style body, when it is a non-negative integer. */
export function actualTokens(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const usage = (body as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const total = (usage as { total_tokens?: unknown }).total_tokens;
  return typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : undefined;
}

/** Actual usage to settle: the token dimensions that were granted, at the reported total; none when the estimate was exact. */
export function settlement(
  costs: Readonly<Record<string, number>>,
  body: unknown,
  isTokens: TokenDimensionTest,
): Record<string, number> | undefined {
  const total = actualTokens(body);
  if (total === undefined) return undefined;
  const tokenDimensions = Object.keys(costs).filter(isTokens);
  // Nothing to settle when the estimate was exact: a write would change nothing, and with many
  // calls in flight it would only contend for the vendor's item.
  if (tokenDimensions.every((dimension) => costs[dimension] === total)) return undefined;
  return Object.fromEntries(tokenDimensions.map((dimension) => [dimension, total]));
}

/**
 * The vendor's remaining counts, per dimension: remaining tokens for token dimensions,
 * remaining requests for the unkeyed time dimensions (a keyed one, like a per-location limit,
 * is not what the vendor's global header counts). Concurrent dimensions (leased) never.
 *
 * A count is left out when the call took at least as long as the count's reset
 * (`answerLatencyMs`): vendors count a request when it arrives, so the window that count
 * describes had ended before the answer was read, and lowering the bucket to it would idle
 * the quota of the window now running (a slow vendor's "0 remaining" arrives after its reset).
 */
export function resyncTargets(
  costs: Readonly<Record<string, number>>,
  leasedDimensions: readonly string[],
  rateLimit: RateLimitHeaders,
  isTokens: TokenDimensionTest,
  answerLatencyMs = 0,
): [dimension: string, remaining: number][] {
  const current = (remaining: number | undefined, resetSeconds: number | undefined) =>
    remaining !== undefined && (resetSeconds === undefined || answerLatencyMs < resetSeconds * 1000);
  const targets: [string, number][] = [];
  for (const dimension of Object.keys(costs)) {
    if (leasedDimensions.includes(dimension)) continue;
    if (isTokens(dimension)) {
      if (current(rateLimit.remainingTokens, rateLimit.resetTokensSeconds))
        targets.push([dimension, rateLimit.remainingTokens as number]);
    } else if (
      dimension.split('#').length === 2 &&
      current(rateLimit.remainingRequests, rateLimit.resetRequestsSeconds)
    ) {
      targets.push([dimension, rateLimit.remainingRequests as number]);
    }
  }
  return targets;
}

/**
 * The dimensions a 429 penalizes: the time dimensions of the call (a concurrent one has no
 * rate to lower), narrowed to the kind the vendor says is exhausted when its headers say so
 * (x-ratelimit-remaining-requests 0 with tokens left: the request limit refused, not the tokens).
 */
export function penaltyTargets(
  costs: Readonly<Record<string, number>>,
  leasedDimensions: readonly string[],
  rateLimit: RateLimitHeaders,
  isTokens: TokenDimensionTest,
): string[] {
  const timed = Object.keys(costs).filter((dimension) => !leasedDimensions.includes(dimension));
  const requestsOut = rateLimit.remainingRequests === 0;
  const tokensOut = rateLimit.remainingTokens === 0;
  if (requestsOut && !tokensOut) return narrowOrAll(timed, (dimension) => !isTokens(dimension));
  if (tokensOut && !requestsOut) return narrowOrAll(timed, isTokens);
  return timed;
}

function narrowOrAll(dimensions: string[], keep: (dimension: string) => boolean): string[] {
  const narrowed = dimensions.filter(keep);
  return narrowed.length > 0 ? narrowed : dimensions;
}
