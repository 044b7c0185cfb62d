import { LogEvent, Metric, MetricDimension } from '../contract';
import { bucketName, type Granted } from '../sluice';
import type { VendorCallResult } from '../vendor-api/client';
import { penaltyTargets, resyncTargets, settlement, type TokenDimensionTest } from './costs';
import {
  decideOnRetryIn,
  decideOnVendorAnswer,
  type NextAction,
  penaltyFactor,
  requeueOrDeadLetter,
} from './decision';
import { grantRepeat } from './repeat-grant';
import { context, type PreparedMessage, type WorkerRuntime } from './runtime';

/** The action that ends this delivery (never `sleep`: sleeps happen inside the loop). */
export interface Attempt {
  readonly action: Exclude<NextAction, { kind: 'sleep' }>;
  /** The answer came from the read cache: no quota spent. */
  readonly cached: boolean;
  /** The vendor's answer that ended the delivery with `done` (its outcome event is built from it). */
  readonly answer?: VendorCallResult;
  /** The token usage settled against the estimate after that answer, per dimension. */
  readonly tokenUsage?: Readonly<Record<string, number>>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Acquire, call, react; at most one inline sleep per delivery, so a delivery makes at most
 * two vendor calls (besides the vendor client's own safe retries) and always ends in time.
 */
export async function runAttempts(prepared: PreparedMessage, runtime: WorkerRuntime): Promise<Attempt> {
  const cached = runtime.vendor.cachedResponse(prepared.request);
  if (cached?.class === 'success') return { action: { kind: 'done' }, cached: true, answer: cached };
  let inlineUsed = false;
  let busyCount = 0;
  for (;;) {
    if (runtime.clock() >= prepared.deadlineMs) {
      const action = requeueOrDeadLetter(
        0,
        'no time left in this invocation',
        context(prepared, runtime, inlineUsed),
      );
      return { action: endAction(action), cached: false };
    }
    const acquired = await acquireOrWait(prepared, runtime, inlineUsed);
    if ('action' in acquired) return { action: endAction(acquired.action), cached: false };
    inlineUsed ||= acquired.slept;
    const { answer, tokenUsage } = await callVendor(acquired.grant, prepared, runtime);
    if (answer.class === 'busy') busyCount += 1;
    const action = decideOnVendorAnswer(
      {
        class: answer.class,
        status: answer.status,
        retryAfterSeconds: answer.retryAfterSeconds,
        outcomeUnknown: answer.outcomeUnknown,
        idempotent: isIdempotent(prepared, runtime),
        busyCount: busyCount - 1,
        error: answer.error,
      },
      context(prepared, runtime, inlineUsed),
    );
    if (action.kind === 'done') {
      return { action, cached: false, answer, ...(tokenUsage ? { tokenUsage } : {}) };
    }
    if (action.kind !== 'sleep') return { action: endAction(action), cached: false };
    inlineWait(prepared, runtime, action.ms);
    await runtime.sleep(action.ms);
    inlineUsed = true;
  }
}

/**
 * Acquire; on a short `RetryIn`, one inline wait in the pool's line for the refusing bucket
 * (bucket-lines.ts), then acquire once more. A record that waited behind others first asks
 * again (its wait is stale) and sleeps what is left; one that never got its turn within the
 * inline threshold acquires at once. Still refused: the decision tree requeues it.
 */
async function acquireOrWait(
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
  inlineUsed: boolean,
): Promise<{ readonly grant: Granted; readonly slept: boolean } | { readonly action: NextAction }> {
  let acquired = await timedAcquire(prepared, runtime);
  if (acquired.outcome === 'Granted') return { grant: acquired, slept: false };
  let action = decideOnRetryIn(
    acquired.waitSeconds,
    acquired.dimension,
    context(prepared, runtime, inlineUsed),
  );
  if (action.kind !== 'sleep') return { action };
  // A turn is awaited no longer than the inline threshold, and never past the slot deadline.
  const patienceMs = Math.min(
    runtime.inlineRetryThresholdSeconds * 1000,
    Math.max(0, prepared.deadlineMs - runtime.clock()),
  );
  const turn = await runtime.lines.join(acquired.dimension, () => runtime.sleep(patienceMs));
  try {
    if (turn === undefined && runtime.clock() >= prepared.deadlineMs) {
      return {
        action: requeueOrDeadLetter(0, 'no time left in this invocation', context(prepared, runtime, true)),
      };
    }
    if (turn?.waitedInLine) {
      acquired = await timedAcquire(prepared, runtime);
      if (acquired.outcome === 'Granted') return { grant: acquired, slept: true };
      action = decideOnRetryIn(
        acquired.waitSeconds,
        acquired.dimension,
        context(prepared, runtime, inlineUsed),
      );
      if (action.kind !== 'sleep') return { action };
    }
    if (turn) {
      inlineWait(prepared, runtime, action.ms);
      await turn.sleep(action.ms, runtime.sleep);
    }
    acquired = await timedAcquire(prepared, runtime);
    if (acquired.outcome === 'Granted') return { grant: acquired, slept: true };
    return {
      action: decideOnRetryIn(acquired.waitSeconds, acquired.dimension, context(prepared, runtime, true)),
    };
  } finally {
    turn?.leave();
  }
}

async function timedAcquire(prepared: PreparedMessage, runtime: WorkerRuntime) {
  const startedMs = runtime.clock();
  const acquired = await runtime.sluice.acquire(prepared.costs);
  runtime.telemetry.milliseconds(Metric.acquireLatency, runtime.clock() - startedMs);
  runtime.telemetry.count(acquired.outcome === 'Granted' ? Metric.grants : Metric.retryIns);
  return acquired;
}

function inlineWait(prepared: PreparedMessage, runtime: WorkerRuntime, ms: number): void {
  runtime.telemetry.count(Metric.inlineWaits);
  runtime.telemetry.info(LogEvent.inlineWait, { id: prepared.message.id, wait_ms: ms });
}

function endAction(action: NextAction): Attempt['action'] {
  if (action.kind === 'sleep') throw new Error('a sleep cannot end a delivery');
  return action;
}

function isIdempotent(prepared: PreparedMessage, runtime: WorkerRuntime): boolean {
  if (SAFE_METHODS.has(prepared.request.method)) return true;
  return runtime.settings.operations[prepared.request.operation]?.idempotent === true;
}

/** The vendor call with the slot deadline; `release()` always runs, whatever the call did. */
async function callVendor(
  grant: Granted,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<{ answer: VendorCallResult; tokenUsage?: Record<string, number> }> {
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
      beforeRepeat: () => grantRepeat(grant, prepared, runtime),
    });
  } finally {
    runtime.calls.inFlight -= 1;
    await bestEffort(runtime, 'release', () => grant.release());
    for (const lease of grant.leases) runtime.lines.wake(lease.dimension);
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
    const tokenUsage = await afterSuccess(grant, answer, runtime);
    return tokenUsage ? { answer, tokenUsage } : { answer };
  }
  if (answer.class === 'rate_limited') await afterRateLimit(grant, answer, runtime);
  return { answer };
}

/**
 * Actual token usage settles the estimate; the vendor's remaining counts resynchronise the
 * buckets. Returns the usage the answer reported (the completed outcome carries it).
 */
async function afterSuccess(
  grant: Granted,
  answer: VendorCallResult,
  runtime: WorkerRuntime,
): Promise<Record<string, number> | undefined> {
  const isTokens = grantedTokens(grant);
  const actual = settlement(grant.costs, answer.body, isTokens);
  if (actual) await bestEffort(runtime, 'settle', () => grant.settle(actual));
  const leased = grant.leases.map((lease) => lease.dimension);
  for (const [dimension, remaining] of resyncTargets(grant.costs, leased, answer.rateLimit, isTokens)) {
    await bestEffort(runtime, 'resync', () => runtime.sluice.resync(dimension, remaining));
  }
  return actual;
}

/** A 429 after a grant: the vendor has less than the bucket believes; penalize so every worker sees it. */
async function afterRateLimit(
  grant: Granted,
  answer: VendorCallResult,
  runtime: WorkerRuntime,
): Promise<void> {
  runtime.telemetry.count(Metric.vendor429AfterGrant);
  const nowMs = runtime.clock();
  const leased = grant.leases.map((lease) => lease.dimension);
  const isTokens = grantedTokens(grant);
  for (const dimension of penaltyTargets(grant.costs, leased, answer.rateLimit, isTokens)) {
    const factor = penaltyFactor(
      answer.retryAfterSeconds,
      runtime.lastRateLimitAtMs.get(dimension),
      nowMs,
      runtime.settings.policy,
    );
    runtime.lastRateLimitAtMs.set(dimension, nowMs);
    await bestEffort(runtime, 'penalize', async () => {
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

/**
 * Release, settle, resync and penalize must not turn a finished vendor call into a failed
 * message (its redelivery would call the vendor again): a failure is logged, and the
 * reconciler (release) or refill (the others) repairs the bucket.
 */
async function bestEffort(runtime: WorkerRuntime, what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (error) {
    runtime.telemetry.warn(LogEvent.messageFailed, { step: what, error: (error as Error).message });
  }
}

/** The granted dimensions that count tokens, as the SDK read them from the buckets it took from. */
function grantedTokens(grant: Granted): TokenDimensionTest {
  const tokens = new Set(grant.tokenDimensions);
  return (dimension) => tokens.has(dimension);
}
