import type { SQSRecord } from 'aws-lambda';
import { DeadLetterReason, LogEvent, Metric } from '../../contract';
import { peekRouting } from '../../outcomes/build';
import { readDelivery } from '../adapters/attributes';
import type { WorkerRuntime } from '../runtime';
import { endDelivery } from './endings';

/** What the handler does with a record that threw: report it to SQS, or it was dead-lettered. */
export type FailedRecordOutcome = 'retry' | 'dead_lettered';

/**
 * A record the worker failed on (a store, queue or secret error, a bug). Every failure counts
 * in the `MessageFailures` metric (alarmed: Lambda's own `Errors` stays 0, since the handler
 * returns) and is logged with the message id.
 *
 * SQS redrive moves a message that keeps failing to the DLQ as it is, with no reason. So the
 * worker dead-letters it itself, with `worker_error` and the last error as the detail, at the
 * receive before the last one SQS allows (`maxReceiveCount − 1`): if that send fails too (SQS
 * unavailable, the invocation cut short), one delivery is left to try again before the
 * redrive. docs/worker.md, "A record that fails", says what this guarantees and what it cannot.
 */
export async function onRecordFailure(
  record: SQSRecord,
  error: unknown,
  runtime: WorkerRuntime,
): Promise<FailedRecordOutcome> {
  const { name, message } = describe(error);
  const receiveCount = receiveCountOf(record);
  runtime.telemetry.count(Metric.messageFailures);
  runtime.telemetry.error(LogEvent.messageFailed, {
    message_id: record.messageId,
    error: message,
    error_name: name,
    receive_count: receiveCount,
  });
  if (receiveCount < ownDeadLetterReceive(runtime.maxReceiveCount)) return 'retry';
  const detail = `${name}: ${message} (receive ${receiveCount} of at most ${runtime.maxReceiveCount})`;
  try {
    await endDelivery(
      {
        action: { kind: 'dead_letter', reason: DeadLetterReason.workerError, detail },
        record,
        delivery: readDelivery(record, runtime.clock(), runtime.ownSenderIds),
        // Its outcome is published unless the id completed: then the completion's is (one final outcome).
        routing: peekRouting(record.body, record.messageId, runtime.productSet),
      },
      runtime,
    );
    return 'dead_lettered';
  } catch (sendError) {
    const failed = describe(sendError);
    runtime.telemetry.error(LogEvent.messageFailed, {
      message_id: record.messageId,
      step: 'dead_letter',
      error: failed.message,
      error_name: failed.name,
    });
    return 'retry';
  }
}

/**
 * The receive at which the worker dead-letters a failing record itself: one before the last,
 * so a failed DLQ send still has a delivery left; the first receive when SQS allows only one.
 */
export function ownDeadLetterReceive(maxReceiveCount: number): number {
  return Math.max(1, maxReceiveCount - 1);
}

/** SQS counts this delivery in ApproximateReceiveCount; a record without it is a first receive. */
function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}
