import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { idempotencyId, LogEvent, Metric } from '../contract';
import { ClaimsTogether } from '../idempotency/claims-together';
import type { IdempotencyStore } from '../idempotency/store';
import { OutcomePublisher } from '../outcomes/publisher';
import { isUnstarted, readDelivery } from './adapters/attributes';
import { bestEffort } from './adapters/telemetry';
import type { MessageOutcome } from './pipeline/endings';
import { prepareRecord } from './pipeline/prepare';
import { processRecord } from './pipeline/process-message';
import { onRecordFailure } from './pipeline/record-failure';
import { slotDeadlineMs, timeLeftMs } from './policy/deadline';
import type { WorkerDependencies } from './ports';
import type { WorkerRuntime } from './runtime';
import { runPool } from './warm/pool';
import { WarmEnvironment } from './warm/warm-environment';

export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The worker's SQS handler over injected dependencies: the Lambda entry point wires the
 * real clients once per cold start; tests and the local stack wire local servers, a fake
 * clock or an instrumented fetch.
 *
 * Reserved concurrency 1 keeps one environment; inside it the batch runs through a pool of
 * record pipelines (pool.ts) sized from the vendor's rate and latency up to `maxInFlight`
 * (pool-size.ts), copies of records an earlier invocation
 * never started going first. A record starts only while one whole vendor call still fits
 * before the slot deadline (`startBudgetMs`); the rest are requeued as copies, unstarted, so
 * they spend no receive count and no attempt. Capacity deferrals, duplicates and refusals are
 * acknowledged; only a record that threw is reported in `batchItemFailures`, so only
 * surprises count toward the queue's maxReceiveCount (and at the receive before the last,
 * `onRecordFailure` dead-letters it with its reason instead).
 */
export function createWorker(dependencies: WorkerDependencies): WorkerHandler {
  let deadlineMs = 0;
  // The claims of the records that start together, with the next wave's, in one request
  // (claims-together.ts). A record claimed for the next wave still starts when the time left
  // holds its whole budget once a slot frees: a running record's call and its inline wait.
  const claims = new ClaimsTogether(
    dependencies.idempotency,
    {
      poolSize: () => runtime.warm.poolLimit(runtime.clock()),
      mayClaimAhead: () =>
        timeLeftMs(runtime.clock(), deadlineMs) >= 2 * budgetMs + runtime.inlineRetryThresholdSeconds * 1000,
    },
    (step, error) =>
      dependencies.telemetry.warn(LogEvent.claimsTogetherFailed, { step, error: (error as Error).message }),
  );
  const runtime = runtimeOf(dependencies, claims);
  const budgetMs = startBudgetMs(runtime);
  return async (event, context) => {
    const failed = new Set<string>();
    deadlineMs = slotDeadlineMs(
      runtime.clock(),
      context.getRemainingTimeInMillis(),
      runtime.lambdaTimeoutSeconds,
    );
    const guarded = async (record: SQSRecord, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        // Counted and logged; reported to SQS, or dead-lettered with its reason near the last receive.
        if ((await onRecordFailure(record, error, runtime)) === 'retry') failed.add(record.messageId);
      }
    };
    // The invocation's first record always starts (its own checks requeue it if the slot is
    // gone): the invocation may begin with a little less than a whole slot left, and a budget
    // of a whole slot would then start nothing at all.
    let first = true;
    const canStart = () => {
      const start = first || timeLeftMs(runtime.clock(), deadlineMs) >= budgetMs;
      first = false;
      return start;
    };
    const items = startOrder(event.Records, runtime.ownSenderIds);
    claims.plan(claimIds(items, deadlineMs, runtime));
    try {
      await runPool({
        items,
        // Little's law on what this environment has seen, up to maxInFlight (pool-size.ts).
        limit: () => runtime.warm.poolLimit(runtime.clock()),
        canStart,
        run: (record) => guarded(record, () => processRecord(record, deadlineMs, runtime)),
        skip: (record) => guarded(record, () => requeueUnstarted(record, runtime)),
      });
    } finally {
      await claims.giveBackUnused();
      await runtime.warm.settled();
      runtime.telemetry.flush();
    }
    // In the batch's order, each failed record once: exactly the records SQS must deliver again.
    const failures: SQSBatchItemFailure[] = event.Records.filter((record) =>
      failed.has(record.messageId),
    ).map((record) => ({ itemIdentifier: record.messageId }));
    return { batchItemFailures: failures };
  };
}

/**
 * What a record needs to start: one whole vendor call (`requestTimeoutMs`). A call cut short
 * by the slot deadline has an unknown outcome, which a non-idempotent request cannot repeat.
 * Never more than the slot itself, so the first record of an invocation always starts.
 */
export function startBudgetMs(runtime: Pick<WorkerRuntime, 'settings' | 'lambdaTimeoutSeconds'>): number {
  const slotMs = slotDeadlineMs(0, runtime.lambdaTimeoutSeconds * 1000, runtime.lambdaTimeoutSeconds);
  return Math.min(runtime.settings.requestTimeoutMs, slotMs);
}

/** The idempotency ids the batch's records will claim, in start order: those a record can act on. */
function claimIds(records: readonly SQSRecord[], deadlineMs: number, runtime: WorkerRuntime): string[] {
  return records.flatMap((record) => {
    const prepared = prepareRecord(record, deadlineMs, runtime);
    return 'kind' in prepared ? [] : [idempotencyId(prepared.message.product, prepared.message.id)];
  });
}

/** Copies an earlier invocation never started go first; otherwise the batch's own order. */
export function startOrder(records: readonly SQSRecord[], ownSenderIds?: readonly string[]): SQSRecord[] {
  const first = (record: SQSRecord) => isUnstarted(record, ownSenderIds);
  return [...records.filter(first), ...records.filter((record) => !first(record))];
}

/**
 * A record the pool never started: a copy goes back at once with the same attempt and first-seen
 * time, marked to start first, and the original is acknowledged. Returning it as a failure
 * instead would spend one of its receives toward the DLQ for the worker's lack of time.
 */
async function requeueUnstarted(record: SQSRecord, runtime: WorkerRuntime): Promise<MessageOutcome> {
  const delivery = readDelivery(record, runtime.clock(), runtime.ownSenderIds);
  await runtime.queues.requeue(record.body, { ...delivery, unstarted: true }, 0);
  runtime.telemetry.count(Metric.unstartedRequeues);
  runtime.telemetry.info(LogEvent.messageRequeued, {
    message_id: record.messageId,
    attempt: delivery.attempt,
    delay_seconds: 0,
    why: 'not started: no vendor call fits before the deadline',
  });
  return 'requeued';
}

/**
 * The runtime over the wiring's dependencies, each default filled in its own line, the records'
 * idempotency claims taken through `idempotency` (those asked together go together), and the warm
 * environment the pool's records share while the Lambda environment lives.
 */
function runtimeOf(dependencies: WorkerDependencies, idempotency: IdempotencyStore): WorkerRuntime {
  const { settings, telemetry } = dependencies;
  const products = dependencies.products ?? [];
  return {
    settings,
    sluice: dependencies.sluice,
    vendor: dependencies.vendor,
    queues: dependencies.queues,
    idempotency,
    telemetry,
    lambdaTimeoutSeconds: dependencies.lambdaTimeoutSeconds,
    maxReceiveCount: dependencies.maxReceiveCount ?? Number.POSITIVE_INFINITY,
    products,
    productSet: new Set(products),
    ownSenderIds: dependencies.ownSenderIds,
    productSenders: dependencies.productSenders,
    outcomes: new OutcomePublisher(dependencies.idempotency, telemetry, dependencies.outcomes),
    inlineRetryThresholdSeconds:
      dependencies.inlineRetryThresholdSeconds ?? settings.policy.inlineRetryThresholdSeconds,
    circuit: dependencies.circuit,
    clock: dependencies.clock ?? Date.now,
    random: dependencies.random ?? Math.random,
    sleep: dependencies.sleep ?? realSleep,
    warm: new WarmEnvironment(dependencies.sluice, {
      maxInFlight: settings.maxInFlight,
      // A lease's release is best effort: a failure is logged, and the lease reclaimed at expiry.
      release: (grant) => bestEffort(telemetry, 'release', () => grant.release()),
      passedOn: (grant) =>
        telemetry.info(LogEvent.leasePassedOn, { dimensions: grant.leases.map((lease) => lease.dimension) }),
      // At cold start: the first acquire waits for it, so the first grant is not followed by a call
      // slower than the rest, and the start burst reaches the vendor as the buckets granted it
      // (warm-up.ts). Records still start at once (the deadline counts from the invocation). Never throws.
      warming: dependencies.vendor.warmUp?.(),
    }),
  };
}

export type { MessageOutcome };
