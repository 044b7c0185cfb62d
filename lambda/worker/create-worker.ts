import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { WorkerDependencies } from './ports';
import { type MessageOutcome, processRecord } from './process-message';
import { onRecordFailure } from './record-failure';
import type { WorkerRuntime } from './runtime';

export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The worker's SQS handler over injected dependencies: the Lambda entry point wires the
 * real clients once per cold start; tests and the local stack wire local servers, a fake
 * clock or an instrumented fetch. Records run one after the other (reserved concurrency 1
 * means the whole worker is sequential). Capacity deferrals, duplicates and refusals are
 * acknowledged; only a record that threw is reported in `batchItemFailures`, so only
 * surprises count toward the queue's maxReceiveCount (and at the receive before the last,
 * `onRecordFailure` dead-letters it with its reason instead).
 */
export function createWorker(dependencies: WorkerDependencies): WorkerHandler {
  const runtime: WorkerRuntime = {
    inlineRetryThresholdSeconds: dependencies.settings.policy.inlineRetryThresholdSeconds,
    clock: Date.now,
    random: Math.random,
    sleep: realSleep,
    maxReceiveCount: Number.POSITIVE_INFINITY,
    ...withoutUndefined(dependencies),
    lastRateLimitAtMs: new Map(),
  } as WorkerRuntime;
  return async (event, context) => {
    const failures: SQSBatchItemFailure[] = [];
    try {
      for (const record of event.Records) {
        try {
          await processRecord(record, context.getRemainingTimeInMillis(), runtime);
        } catch (error) {
          if ((await onRecordFailure(record, error, runtime)) === 'retry') {
            failures.push({ itemIdentifier: record.messageId });
          }
        }
      }
    } finally {
      runtime.telemetry.flush();
    }
    return { batchItemFailures: failures };
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

export type { MessageOutcome };
