import type { SQSRecord } from 'aws-lambda';
import { idempotencyId, LogEvent, Metric, MetricDimension } from '../../contract';
import { completedOutcome, deadLetteredOutcome, type OutcomeRouting } from '../../outcomes/build';
import type { Delivery } from '../adapters/attributes';
import type { Done, EndAction } from '../policy/decision';
import type { PreparedMessage, WorkerRuntime } from '../runtime';
import type { Attempt } from './run-attempts';

/**
 * The last step of a record: how its delivery ends. Every ending is final for this delivery
 * (it is acknowledged): a completion, a copy sent back, or a dead letter, each with its
 * outcome event when the message has a product, built here where the ending is carried out.
 */

/** How one message ended in this invocation. */
export type MessageOutcome = 'completed' | 'duplicate' | 'requeued' | 'dead_lettered';

/** A delivery's ending as the pipeline decided it, with what its outcome event needs. */
export type Ending = EndingOf<EndAction> | Completion;

interface EndingOf<A extends Done | EndAction> {
  readonly action: A;
  readonly record: SQSRecord;
  readonly delivery: Delivery;
  /** Where its outcome goes: absent, none is published. */
  readonly routing?: OutcomeRouting;
}

/** A completion: the message and the attempt that completed it. */
interface Completion extends EndingOf<Done> {
  readonly prepared: PreparedMessage;
  readonly attempt: Pick<Attempt, 'cached' | 'answer' | 'tokenUsage'>;
}

/**
 * Carries out an ending. A completion (the vendor answered 2xx, or the cache did) is recorded
 * with its event, then published: stored first, so a failed publish is retried by the next
 * delivery. A requeue or a dead letter is sent, and the original delivery is then
 * acknowledged; a dead letter with a `routing` publishes its final outcome after the DLQ send.
 */
export async function endDelivery(
  ending: Ending,
  runtime: WorkerRuntime,
): Promise<Exclude<MessageOutcome, 'duplicate'>> {
  const { record, delivery, routing } = ending;
  const { telemetry } = runtime;
  if ('prepared' in ending) {
    const { prepared, attempt } = ending;
    const nowMs = runtime.clock();
    const event =
      routing && attempt.answer
        ? completedOutcome({
            routing,
            attempts: delivery.attempt + 1,
            endedAtMs: nowMs,
            answer: attempt.answer,
            ...(attempt.tokenUsage ? { tokenUsage: attempt.tokenUsage } : {}),
          })
        : undefined;
    const ledgerId = idempotencyId(prepared.message.product, prepared.message.id);
    const stored = await runtime.outcomes.storeCompleted(event, ledgerId, nowMs);
    const ageSeconds = (nowMs - delivery.firstSeenAtMs) / 1000;
    telemetry.count(Metric.completed);
    telemetry.seconds(Metric.messageAge, ageSeconds);
    if (routing) {
      telemetry.seconds(Metric.productMessageAge, ageSeconds, {
        name: MetricDimension.product,
        value: routing.product,
      });
    }
    telemetry.info(LogEvent.messageCompleted, {
      id: prepared.message.id,
      operation: prepared.request.operation,
      attempt: delivery.attempt,
      age_seconds: ageSeconds,
      cached: attempt.cached,
    });
    // Completed from here on; a failed publish throws, and the next delivery publishes the stored event.
    await runtime.outcomes.publishCompleted(ledgerId, stored);
    return 'completed';
  }
  const { action } = ending;
  if (action.kind === 'requeue') {
    const attempt = action.keepAttempt ? delivery.attempt : delivery.attempt + 1;
    const next = { attempt, firstSeenAtMs: delivery.firstSeenAtMs };
    await runtime.queues.requeue(record.body, next, action.delaySeconds);
    telemetry.count(action.keepAttempt ? Metric.circuitDeferrals : Metric.requeues);
    telemetry.info(LogEvent.messageRequeued, {
      message_id: record.messageId,
      attempt: next.attempt,
      delay_seconds: action.delaySeconds,
      base_delay_seconds: action.baseDelaySeconds,
      why: action.why,
    });
    return 'requeued';
  }
  await runtime.queues.deadLetter(record.body, delivery, action.reason, action.detail);
  telemetry.count(Metric.deadLettered, 1, { name: MetricDimension.reason, value: action.reason });
  telemetry.warn(LogEvent.messageDeadLettered, {
    message_id: record.messageId,
    reason: action.reason,
    detail: action.detail,
    attempt: delivery.attempt,
  });
  if (routing) {
    const event = deadLetteredOutcome({
      routing,
      attempts: delivery.attempt + 1,
      endedAtMs: runtime.clock(),
      reason: action.reason,
      detail: action.detail,
    });
    await runtime.outcomes.deadLettered(event, runtime.clock());
  }
  return 'dead_lettered';
}
