import { idempotencyId, LogEvent, Metric, MetricDimension } from '../../contract';
import { bucketName, type Granted } from '../../sluice';
import type { VendorCallResult } from '../../vendor-api/client';
import { bestEffortSteps } from '../adapters/telemetry';
import { bucketWrites, type GrantedDimensions } from '../policy/answer-writes';
import type { TokenDimensionTest } from '../policy/costs';
import type { PreparedMessage, WorkerRuntime } from '../runtime';
import { grantRepeat } from './repeat-grant';

/**
 * One granted vendor call and what its answer settles: the call with the slot deadline
 * (`release()` always runs, whatever the call did), then the bucket writes the answer asks for
 * (answer-writes.ts: a 2xx settles the token estimate and resynchronises the buckets from the
 * vendor's counts, a 429 penalizes the buckets that let it through), each best effort, in one
 * place after the call. The grant's dimensions are read once (`grantedDimensions`).
 */
export async function callVendor(
  grant: Granted,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<{ answer: VendorCallResult; tokenUsage?: Record<string, number> }> {
  const { telemetry, warm } = runtime;
  const dimensions = grantedDimensions(grant);
  let answer: VendorCallResult;
  telemetry.count(Metric.callsInFlight, warm.callStarted(runtime.clock()));
  const hangTimeoutMs = warm.hangTimeoutMs(runtime.settings.requestTimeoutMs);
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
    warm.callEnded();
    // Released, or kept for a record of the pool waiting for the lease (warm-environment.ts).
    await warm.leasesDone(grant);
  }
  // A success in one attempt: its time is the vendor's service time (a repeat's includes the
  // backoff; refusals and errors often come back faster than work).
  if (answer.attempts === 1 && answer.class === 'success') warm.answered(answer.latencyMs);
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
  // A 429 after a grant: the vendor has less than the bucket believes; penalize so every worker sees it.
  if (answer.class === 'rate_limited') telemetry.count(Metric.vendor429AfterGrant);
  const nowMs = runtime.clock();
  const writes = bucketWrites(grant.costs, dimensions, answer, {
    nowMs,
    policy: runtime.settings.policy,
    previous429: (dimension) => warm.rateLimited(dimension, nowMs),
  });
  const { settle } = writes;
  await bestEffortSteps(telemetry, [
    ...(settle ? [{ what: 'settle', step: () => grant.settle(settle) }] : []),
    ...writes.resyncs.map(([dimension, remaining]) => ({
      what: 'resync',
      step: () => runtime.sluice.resync(dimension, remaining),
    })),
    ...writes.penalties.map((penalty) => ({
      what: 'penalize',
      step: async () => {
        const { dimension, factor, holdSeconds, statedLimitPerSecond } = penalty;
        const options =
          statedLimitPerSecond === undefined ? { holdSeconds } : { holdSeconds, statedLimitPerSecond };
        const { rateScaleAfter, statedLimit } = await runtime.sluice.penalize(dimension, factor, options);
        const bucket = { name: MetricDimension.bucket, value: bucketName(dimension) };
        if (statedLimit === 'ceiling') {
          telemetry.count(Metric.statedLimitBelowConfigured, 1, bucket);
          telemetry.info(LogEvent.statedLimitBelowConfigured, {
            dimension,
            stated_limit_per_second: statedLimitPerSecond,
            rate_scale_after: rateScaleAfter,
          });
        }
        if (rateScaleAfter === undefined) return;
        telemetry.percent(Metric.rateScale, Math.round(rateScaleAfter * 1000) / 10, bucket);
      },
      after: () => telemetry.count(Metric.penalties),
    })),
  ]);
  return settle ? { answer, tokenUsage: settle } : { answer };
}

/** The grant's dimensions, read once from the SDK's answer (answer-writes.ts, `GrantedDimensions`). */
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
