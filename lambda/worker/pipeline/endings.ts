import type { SQSRecord } from 'aws-lambda';
import { idempotencyId, LogEvent, Metric, MetricDimension } from '../../contract';
import { completedOutcome, deadLetteredOutcome, type OutcomeRouting } from '../../outcomes/build';
import type { Delivery } from '../adapters/attributes';
import type { EndAction } from '../policy/decision';
import type { PreparedMessage, WorkerRuntime } from '../runtime';
import type { Attempt } from './run-attempts';

/**
 * The last step of a record: how its delivery ends. Every ending is final for this delivery
 * (it is acknowledged): a completion, a copy sent back, or a dead letter, each with its
 * outcome event when the message has a product.
 */

/** How one message ended in this invocation. */
export type MessageOutcome = 'completed' | 'duplicate' | 'requeued' | 'dead_lettered';

/**
 * The vendor answered 2xx (or the cache did): record the completion with its event, then
 * publish it. Stored first, so a failed publish is retried by the next delivery.
 */
export async function completeDelivery(
  attempt: Pick<Attempt, 'cached' | 'answer' | 'tokenUsage'>,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<'completed'> {
  const nowMs = runtime.clock();
  const event =
    prepared.routing && attempt.answer
      ? completedOutcome({
          routing: prepared.routing,
          attempts: prepared.delivery.attempt + 1,
          endedAtMs: nowMs,
          answer: attempt.answer,
          ...(attempt.tokenUsage ? { tokenUsage: attempt.tokenUsage } : {}),
        })
      : undefined;
  const stored = await runtime.outcomes.storeCompleted(event, ledgerIdOf(prepared), nowMs);
  const ageSeconds = (nowMs - prepared.delivery.firstSeenAtMs) / 1000;
  runtime.telemetry.count(Metric.completed);
  runtime.telemetry.seconds(Metric.messageAge, ageSeconds);
  if (prepared.routing) {
    runtime.telemetry.seconds(Metric.productMessageAge, ageSeconds, {
      name: MetricDimension.product,
      value: prepared.routing.product,
    });
  }
  runtime.telemetry.info(LogEvent.messageCompleted, {
    id: prepared.message.id,
    operation: prepared.request.operation,
    attempt: prepared.delivery.attempt,
    age_seconds: ageSeconds,
    cached: attempt.cached,
  });
  // Completed from here on; a failed publish throws, and the next delivery publishes the stored event.
  await runtime.outcomes.publishCompleted(ledgerIdOf(prepared), stored);
  return 'completed';
}

/**
 * Carries out a requeue or a dead letter; the original delivery is then acknowledged. A dead
 * letter with a `routing` publishes its final outcome after the DLQ send.
 */
export async function endDelivery(
  action: EndAction,
  record: SQSRecord,
  delivery: Delivery,
  runtime: WorkerRuntime,
  routing?: OutcomeRouting,
): Promise<'requeued' | 'dead_lettered'> {
  const { telemetry } = runtime;
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

/** The message's idempotency id (product-scoped): the key of its record and outcome. */
function ledgerIdOf(prepared: PreparedMessage): string {
  return idempotencyId(prepared.message.product, prepared.message.id);
}
