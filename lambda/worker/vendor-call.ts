import { LogEvent, Metric, MetricDimension } from '../contract';
import { bucketName, type Granted } from '../sluice';
import type { VendorCallResult } from '../vendor-api/client';
import {
  type GrantedDimensions,
  grantedDimensions,
  penaltyTargets,
  resyncTargets,
  settlement,
} from './costs';
import { penaltyFactor } from './decision';
import { grantRepeat } from './repeat-grant';
import type { PreparedMessage, WorkerRuntime } from './runtime';
import { bestEffort } from './telemetry';

/**
 * One granted vendor call and what its answer settles: the call with the slot deadline
 * (`release()` always runs, whatever the call did), then a 2xx settles the token estimate and
 * resynchronises the buckets from the vendor's counts, and a 429 penalizes the buckets that
 * let it through. The grant's dimensions are read once (costs.ts, `grantedDimensions`).
 */
export async function callVendor(
  grant: Granted,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<{ answer: VendorCallResult; tokenUsage?: Record<string, number> }> {
  const dimensions = grantedDimensions(grant);
  let answer: VendorCallResult;
  runtime.calls.inFlight += 1;
  runtime.telemetry.count(Metric.callsInFlight, runtime.calls.inFlight);
  try {
    answer = await runtime.vendor.call({
      operation: prepared.request.operation,
      method: prepared.request.method,
      path: prepared.request.path,
      body: prepared.message.body,
      idempotencyKey: prepared.message.id,
      deadlineMs: prepared.deadlineMs,
      // Every request that reaches the vendor is granted, the client's repeats included.
      beforeRepeat: () => grantRepeat(dimensions.requestCosts, prepared, runtime),
    });
  } finally {
    runtime.calls.inFlight -= 1;
    await bestEffort(runtime.telemetry, 'release', () => grant.release());
    for (const dimension of dimensions.leased) runtime.lines.wake(dimension);
  }
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
  const targets = resyncTargets(grant.costs, dimensions.leased, answer.rateLimit, dimensions.isTokens);
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
      runtime.lastRateLimitAtMs.get(dimension),
      nowMs,
      runtime.settings.policy,
    );
    runtime.lastRateLimitAtMs.set(dimension, nowMs);
    await bestEffort(runtime.telemetry, 'penalize', async () => {
      // A Retry-After holds the bucket itself, so no worker or product calls before it expires.
      const holdSeconds = answer.retryAfterSeconds ?? 0;
      const { rateScaleAfter } = await runtime.sluice.penalize(dimension, factor, { holdSeconds });
      if (rateScaleAfter === undefined) return;
      runtime.telemetry.percent(Metric.rateScale, Math.round(rateScaleAfter * 1000) / 10, {
        name: MetricDimension.bucket,
        value: bucketName(dimension),
      });
    });
    runtime.telemetry.count(Metric.penalties);
  }
}
