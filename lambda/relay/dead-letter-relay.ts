import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DeadLetterReason, LogEvent, MessageAttr, Metric, MetricDimension } from '../contract';
import { deadLetteredOutcome, peekRouting } from '../outcomes/build';
import type { OutcomePublisher } from '../outcomes/publisher';
import { readDelivery } from '../worker/adapters/attributes';
import type { WorkQueues } from '../worker/adapters/queues';
import type { WorkerTelemetry } from '../worker/adapters/telemetry';

/**
 * The dead-letter relay: the work queue's SQS redrive does not move a message straight to the
 * DLQ but to the relay queue, and this consumer moves it on. SQS moves a message there after
 * `maxReceiveCount` receives without the worker (throttled receives, an invocation killed
 * before it answered), so the worker never publishes its outcome; the relay does: it sends the
 * message to the DLQ with the reason `redrive_max_receive_count` (so every DLQ entry says why),
 * then publishes a dead_lettered outcome for the product it names. Idempotent by message id
 * through the same idempotency record as the worker: a redelivered relay record publishes the
 * stored event again, and an id that had completed (its publish kept failing until SQS gave
 * up) gets its completed outcome published, not a dead letter.
 */
export interface DeadLetterRelayDependencies {
  /** Its `deadLetter` sends to the real DLQ. */
  readonly queues: Pick<WorkQueues, 'deadLetter'>;
  readonly outcomes: OutcomePublisher;
  readonly products: readonly string[];
  readonly telemetry: WorkerTelemetry;
  readonly maxReceiveCount: number;
  readonly clock?: () => number;
}

export type DeadLetterRelayHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export function createDeadLetterRelay(dependencies: DeadLetterRelayDependencies): DeadLetterRelayHandler {
  const clock = dependencies.clock ?? Date.now;
  const productSet = new Set(dependencies.products);
  return async (event) => {
    const failures: SQSBatchItemFailure[] = [];
    try {
      for (const record of event.Records) {
        try {
          await relay(record, dependencies, productSet, clock);
        } catch (error) {
          dependencies.telemetry.error(LogEvent.messageFailed, {
            message_id: record.messageId,
            step: 'dead_letter_relay',
            error: (error as Error).message,
          });
          failures.push({ itemIdentifier: record.messageId });
        }
      }
    } finally {
      dependencies.telemetry.flush();
    }
    return { batchItemFailures: failures };
  };
}

async function relay(
  record: SQSRecord,
  dependencies: DeadLetterRelayDependencies,
  productSet: ReadonlySet<string>,
  clock: () => number,
): Promise<void> {
  const { telemetry } = dependencies;
  const delivery = readDelivery(record, clock());
  // A reason already given (a message sent here by hand) is kept; SQS's redrive gives none.
  const givenReason = record.messageAttributes?.[MessageAttr.deadLetterReason]?.stringValue;
  const reason = givenReason ?? DeadLetterReason.redriveMaxReceiveCount;
  const detail =
    record.messageAttributes?.[MessageAttr.deadLetterDetail]?.stringValue ??
    `SQS moved it to the DLQ after ${dependencies.maxReceiveCount} receives without an answer from the worker (throttled or cut short)`;
  await dependencies.queues.deadLetter(record.body, delivery, reason, detail);
  telemetry.count(Metric.deadLettered, 1, { name: MetricDimension.reason, value: reason });
  telemetry.warn(LogEvent.messageDeadLettered, {
    message_id: record.messageId,
    reason,
    detail,
    attempt: delivery.attempt,
  });
  const routing = peekRouting(record.body, record.messageId, productSet);
  if (!routing) {
    telemetry.warn(LogEvent.outcomeUnroutable, { message_id: record.messageId });
    return;
  }
  const nowMs = clock();
  await dependencies.outcomes.deadLettered(
    deadLetteredOutcome({ routing, attempts: delivery.attempt + 1, endedAtMs: nowMs, reason, detail }),
    nowMs,
  );
}
