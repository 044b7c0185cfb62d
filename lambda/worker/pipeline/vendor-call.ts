import { idempotencyId, LogEvent, Metric, MetricDimension } from '../../contract';
import { bucketName, type Granted } from '../../sluice';
import type { VendorCallResult } from '../../vendor-api/client';
import { type RateLimitHeaders, statedRatePerSecond } from '../../vendor-api/headers';
import { bestEffort } from '../adapters/telemetry';
import type { TokenDimensionTest } from '../policy/costs';
import { penaltyFactor } from '../policy/decision';
import type { PreparedMessage, WorkerRuntime } from '../runtime';
import { grantRepeat } from './repeat-grant';

/**
 * One granted vendor call and what its answer settles: the call with the slot deadline
 * (`release()` always runs, whatever the call did), then a 2xx settles the token estimate and
 * resynchronises the buckets from the vendor's counts, and a 429 penalizes the buckets that
 * let it through. The grant's dimensions are read once (`grantedDimensions`), and the pure
 * helpers at the end say what an answer means for them.
 */
export async function callVendor(
  grant: Granted,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<{ answer: VendorCallResult; tokenUsage?: Record<string, number> }> {
  const dimensions = grantedDimensions(grant);
  let answer: VendorCallResult;
  runtime.telemetry.count(Metric.callsInFlight, runtime.warm.callStarted(runtime.clock()));
  const hangTimeoutMs = runtime.warm.hangTimeoutMs(runtime.settings.requestTimeoutMs);
  try {
    answer = await runtime.vendor.call({
      operation: prepared.request.operation,
      method: prepared.request.method,
      path: prepared.request.path,
      body: prepared.message.body,
      // Scoped by product, as the idempotency record is: another product's order 17 is another request.
      idempotencyKey: idempotencyId(prepared.message.product, prepared.message.id),
      deadlineMs: prepared.deadlineMs,
      // Every request that reaches the vendor is granted, the client's repeats included.
      beforeRepeat: () => grantRepeat(dimensions.requestCosts, prepared, runtime),
      ...(hangTimeoutMs === undefined ? {} : { hangTimeoutMs }),
    });
  } finally {
    runtime.warm.callEnded();
    // Released, or kept for a record of the pool waiting for the lease (warm-environment.ts).
    await runtime.warm.leasesDone(grant);
  }
  // A success in one attempt: its time is the vendor's service time (a repeat's includes the
  // backoff; refusals and errors often come back faster than work).
  if (answer.attempts === 1 && answer.class === 'success') runtime.warm.answered(answer.latencyMs);
  const { telemetry } = runtime;
  telemetry.count(Metric.vendorCalls, 1, { name: MetricDimension.responseClass, value: answer.class });
  telemetry.milliseconds(Metric.vendorLatency, answer.latencyMs);
  telemetry.info(LogEvent.vendorAnswered, {
    id: prepared.message.id,
    operation: prepared.request.operation,
    class: answer.class,
    status: answer.status,
    attempts: answer.attempts,
    latency_ms: answer.latencyMs,
  });
  if (answer.class === 'success') {
    const tokenUsage = await afterSuccess(grant, dimensions, answer, runtime);
    return tokenUsage ? { answer, tokenUsage } : { answer };
  }
  if (answer.class === 'rate_limited') await afterRateLimit(grant, dimensions, answer, runtime);
  return { answer };
}

/**
 * Actual token usage settles the estimate; the vendor's remaining counts resynchronise the
 * buckets. Returns the usage the answer reported (the completed outcome carries it).
 */
async function afterSuccess(
  grant: Granted,
  dimensions: GrantedDimensions,
  answer: VendorCallResult,
  runtime: WorkerRuntime,
): Promise<Record<string, number> | undefined> {
  const actual = settlement(grant.costs, answer.body, dimensions.isTokens);
  if (actual) await bestEffort(runtime.telemetry, 'settle', () => grant.settle(actual));
  const targets = resyncTargets(
    grant.costs,
    dimensions.leased,
    answer.rateLimit,
    dimensions.isTokens,
    answer.latencyMs,
  );
  for (const [dimension, remaining] of targets) {
    await bestEffort(runtime.telemetry, 'resync', () => runtime.sluice.resync(dimension, remaining));
  }
  return actual;
}

/** A 429 after a grant: the vendor has less than the bucket believes; penalize so every worker sees it. */
async function afterRateLimit(
  grant: Granted,
  dimensions: GrantedDimensions,
  answer: VendorCallResult,
  runtime: WorkerRuntime,
): Promise<void> {
  runtime.telemetry.count(Metric.vendor429AfterGrant);
  const nowMs = runtime.clock();
  for (const dimension of penaltyTargets(
    grant.costs,
    dimensions.leased,
    answer.rateLimit,
    dimensions.isTokens,
  )) {
    const factor = penaltyFactor(
      answer.retryAfterSeconds,
      runtime.warm.rateLimited(dimension, nowMs),
      nowMs,
      runtime.settings.policy,
    );
    const stated = statedLimitOf(dimension, answer.rateLimit, dimensions.isTokens);
    await bestEffort(runtime.telemetry, 'penalize', async () => {
      // A Retry-After (or, without one, the stated reset of a spent limit) holds the bucket
      // itself, so no worker or product calls before it expires.
      const holdSeconds = answer.retryAfterSeconds ?? stated.resetSeconds ?? 0;
      const options =
        stated.perSecond === undefined
          ? { holdSeconds }
          : { holdSeconds, statedLimitPerSecond: stated.perSecond };
      const { rateScaleAfter, statedLimit } = await runtime.sluice.penalize(dimension, factor, options);
      const bucket = { name: MetricDimension.bucket, value: bucketName(dimension) };
      if (statedLimit === 'ceiling') {
        runtime.telemetry.count(Metric.statedLimitBelowConfigured, 1, bucket);
        runtime.telemetry.info(LogEvent.statedLimitBelowConfigured, {
          dimension,
          stated_limit_per_second: stated.perSecond,
          rate_scale_after: rateScaleAfter,
        });
      }
      if (rateScaleAfter === undefined) return;
      runtime.telemetry.percent(Metric.rateScale, Math.round(rateScaleAfter * 1000) / 10, bucket);
    });
    runtime.telemetry.count(Metric.penalties);
  }
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

export function grantedDimensions(
  grant: Pick<Granted, 'costs' | 'tokenDimensions' | 'leases'>,
): GrantedDimensions {
  const tokens = new Set(grant.tokenDimensions);
  const leased = grant.leases.map((lease) => lease.dimension);
  const isTokens: TokenDimensionTest = (dimension) => tokens.has(dimension);
  const requestCosts = Object.fromEntries(
    Object.entries(grant.costs).filter(([dimension]) => !isTokens(dimension) && !leased.includes(dimension)),
  );
  return { isTokens, leased, requestCosts };
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
