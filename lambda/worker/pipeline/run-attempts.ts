import { LogEvent, Metric, MetricDimension, SLOT_MARGIN_SECONDS } from '../../contract';
import type { Granted, Turn } from '../../sluice';
import type { VendorCallResult } from '../../vendor-api/client';
import {
  type CapacityStep,
  contextAt,
  type Done,
  decideOnCapacity,
  decideOnVendorAnswer,
  type EndAction,
  type RefusalStage,
} from '../policy/decision';
import type { PreparedMessage, WorkerRuntime } from '../runtime';
import { callVendor } from './vendor-call';

/** How the attempts of one delivery ended: completed (`done`), or a requeue or dead letter. */
export interface Attempt {
  readonly action: Done | EndAction;
  /** The answer came from the read cache: no quota spent. */
  readonly cached: boolean;
  /** The vendor's answer that ended the delivery with `done` (its outcome event is built from it). */
  readonly answer?: VendorCallResult;
  /** The token usage settled against the estimate after that answer, per dimension. */
  readonly tokenUsage?: Readonly<Record<string, number>>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The attempts loop: acquire → call → settle → decide, until the tree completes the message,
 * requeues it or dead-letters it. At most one inline sleep after a vendor answer per delivery
 * (a 429's Retry-After, a busy backoff), so a delivery makes at most two vendor calls (besides
 * the vendor client's own safe retries); each acquire may wait its turn in the bucket's line
 * once, within the inline threshold and the deadline, so it always ends in time. A record
 * refused by a 429 after waiting in line sleeps the Retry-After and queues again here: a
 * requeue would send it behind the whole batch, one more invocation at the end of a drain.
 */
export async function runAttempts(prepared: PreparedMessage, runtime: WorkerRuntime): Promise<Attempt> {
  const cached = runtime.vendor.cachedResponse(prepared.request);
  if (cached?.class === 'success') return { action: { kind: 'done' }, cached: true, answer: cached };
  const idempotent = isIdempotent(prepared, runtime);
  let answerSleepUsed = false;
  let busyCount = 0;
  for (;;) {
    const acquired = await acquireOrWait(prepared, runtime);
    if ('action' in acquired) return { action: acquired.action, cached: false };
    const { answer, tokenUsage } = await callVendor(acquired.grant, prepared, runtime);
    if (answer.class === 'busy') busyCount += 1;
    const action = decideOnVendorAnswer(
      {
        class: answer.class,
        status: answer.status,
        retryAfterSeconds: answer.retryAfterSeconds,
        outcomeUnknown: answer.outcomeUnknown,
        idempotent,
        busyCount: busyCount - 1,
        error: answer.error,
      },
      contextAt(prepared.context, runtime.clock(), answerSleepUsed),
    );
    if (action.kind === 'done')
      return { action, cached: false, answer, ...(tokenUsage ? { tokenUsage } : {}) };
    if (action.kind !== 'sleep') return { action, cached: false };
    runtime.telemetry.count(Metric.inlineWaits);
    runtime.telemetry.info(LogEvent.inlineWait, { id: prepared.message.id, wait_ms: action.ms });
    await runtime.sleep(action.ms);
    answerSleepUsed = true;
  }
}

/**
 * Acquire until granted or the tree ends the delivery, asking the tree once per refusal
 * (`decideOnCapacity`). On a short first `RetryIn`, one inline wait in the pool's line for the
 * refusing bucket (the SDK's `BucketLines`): a record that waited behind others first asks
 * again (its wait is stale) and sleeps what is left; the head of the line may sleep a little
 * more; one that never got its turn within the inline threshold acquires at once. A turn is
 * awaited no longer than the inline threshold, and never past the slot deadline.
 */
async function acquireOrWait(
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<{ readonly grant: Granted } | { readonly action: EndAction }> {
  let turn: Turn | undefined;
  let stage: RefusalStage = { kind: 'first' };
  let noTime = runtime.clock() >= prepared.deadlineMs;
  try {
    for (;;) {
      const acquired = noTime ? undefined : await timedAcquire(prepared, runtime);
      if (acquired?.outcome === 'Granted') return { grant: acquired };
      const step: CapacityStep = acquired
        ? { kind: 'refused', waitSeconds: acquired.waitSeconds, dimension: acquired.dimension, stage }
        : { kind: 'no_time' };
      const next = decideOnCapacity(step, contextAt(prepared.context, runtime.clock()));
      if (next.kind !== 'sleep') return { action: next };
      if (stage.kind === 'first' && acquired) {
        const patienceMs = Math.min(
          runtime.inlineRetryThresholdSeconds * 1000,
          Math.max(0, prepared.deadlineMs - runtime.clock()),
        );
        turn = await runtime.warm.joinLine(
          acquired.dimension,
          () => runtime.sleep(patienceMs),
          prepared.acquireOptions.product,
        );
        // Never got its turn: acquire at once, or end when no time is left.
        if (turn === undefined) noTime = runtime.clock() >= prepared.deadlineMs;
        if (turn === undefined || turn.waitedInLine) {
          stage = { kind: turn === undefined ? 'no_turn' : 'behind_line' };
          continue;
        }
      }
      runtime.telemetry.count(Metric.inlineWaits);
      runtime.telemetry.info(LogEvent.inlineWait, { id: prepared.message.id, wait_ms: next.ms });
      await turn?.sleep(next.ms, runtime.sleep);
      stage = { kind: 'head', extraSleeps: stage.kind === 'head' ? stage.extraSleeps + 1 : 0 };
    }
  } finally {
    turn?.leave();
  }
}

async function timedAcquire(prepared: PreparedMessage, runtime: WorkerRuntime) {
  const startedMs = runtime.clock();
  const acquired = await runtime.warm.acquire(prepared.costs, {
    ...prepared.acquireOptions,
    holdUntilMs: prepared.deadlineMs + SLOT_MARGIN_SECONDS * 1000,
  });
  runtime.telemetry.milliseconds(Metric.acquireLatency, runtime.clock() - startedMs);
  runtime.telemetry.count(acquired.outcome === 'Granted' ? Metric.grants : Metric.retryIns);
  if (acquired.outcome === 'Granted') countShares(acquired, prepared.acquireOptions.product, runtime);
  return acquired;
}

/** Each product's admitted rate and, on shared buckets, its share used and what it took from the common part. */
function countShares(grant: Granted, product: string | undefined, runtime: WorkerRuntime): void {
  if (product === undefined) return;
  const byProduct = { name: MetricDimension.product, value: product };
  runtime.telemetry.count(Metric.productGrants, 1, byProduct);
  for (const [dimension, take] of Object.entries(grant.shares ?? {})) {
    // The bucket as vendor#metric: never a key (keys are unbounded).
    const bucket = { name: MetricDimension.bucket, value: dimension.split('#').slice(0, 2).join('#') };
    if (take.reserved > 0)
      runtime.telemetry.count(Metric.productReservedUnits, take.reserved, [byProduct, bucket]);
    if (take.common > 0) runtime.telemetry.count(Metric.productCommonUnits, take.common, [byProduct, bucket]);
  }
}

function isIdempotent(prepared: PreparedMessage, runtime: WorkerRuntime): boolean {
  if (SAFE_METHODS.has(prepared.request.method)) return true;
  return runtime.settings.operations[prepared.request.operation]?.idempotent === true;
}
