import type { SQSRecord } from 'aws-lambda';
import { DeadLetterReason, idempotencyId, LogEvent, Metric, SLOT_MARGIN_SECONDS } from '../../contract';
import { contextAt, decideOnArrival } from '../policy/decision';
import type { WorkerRuntime } from '../runtime';
import { throughCircuit } from './circuit-guard';
import { endDelivery, type MessageOutcome } from './endings';
import { prepareRecord } from './prepare';
import type { Attempt } from './run-attempts';
import { runAttempts } from './run-attempts';

export type { MessageOutcome } from './endings';

/**
 * One SQS record through the decision tree, with the invocation's slot deadline (deadline.ts),
 * top to bottom: parse → idempotency claim → arrival (same id in progress, age) → vendor circuit
 * → attempts (acquire → call → settle → decide) → end. Expected outcomes (invalid, duplicate,
 * capacity, vendor refusals) are values; only surprises (a store or queue that failed) throw,
 * and the handler reports those as batch item failures so SQS delivers the message again.
 */
export async function processRecord(
  record: SQSRecord,
  deadlineMs: number,
  runtime: WorkerRuntime,
): Promise<MessageOutcome> {
  const prepared = prepareRecord(record, deadlineMs, runtime);
  if ('kind' in prepared) {
    runtime.telemetry.warn(LogEvent.messageInvalid, {
      message_id: record.messageId,
      detail: prepared.detail,
    });
    if (!prepared.routing && runtime.outcomes.enabled) {
      runtime.telemetry.warn(LogEvent.outcomeUnroutable, { message_id: record.messageId });
    }
    // Its outcome still reaches the product when the body names a known one.
    const action = {
      kind: 'dead_letter',
      reason: DeadLetterReason.invalidMessage,
      detail: prepared.detail,
    } as const;
    return endDelivery({ action, record, delivery: prepared.delivery, routing: prepared.routing }, runtime);
  }
  const { message, delivery, routing } = prepared;
  const nowMs = runtime.clock();
  const ledgerId = idempotencyId(message.product, message.id);
  const claim = await runtime.idempotency.begin(ledgerId, nowMs, deadlineMs + SLOT_MARGIN_SECONDS * 1000);
  if (claim.state === 'ended') {
    // The id ended before; a publish that failed then is retried now, from the stored event.
    const republished = await runtime.outcomes.republish(ledgerId, claim.outcome);
    runtime.telemetry.count(Metric.duplicatesSkipped);
    runtime.telemetry.info(LogEvent.messageDuplicate, {
      id: message.id,
      message_id: record.messageId,
      republished,
    });
    return 'duplicate';
  }
  // Another delivery of the same id holds a live claim: come back after it has ended either way.
  const elsewhere = claim.state === 'in_progress' ? claim : undefined;
  let outcome: MessageOutcome | undefined;
  try {
    const arrival = decideOnArrival(
      contextAt(prepared.context, runtime.clock()),
      elsewhere && Math.max(0, (elsewhere.expiresAtMs - nowMs) / 1000),
    );
    const attempt: Attempt = arrival
      ? { action: arrival, cached: false }
      : await throughCircuit(prepared, runtime, (guarded) => runAttempts(prepared, guarded));
    const ended = { record, delivery, ...(elsewhere ? {} : { routing }) };
    outcome = await endDelivery(
      attempt.action.kind === 'done'
        ? { ...ended, action: attempt.action, prepared, attempt }
        : { ...ended, action: attempt.action },
      runtime,
    );
    return outcome;
  } finally {
    // Anything but a completion gives an own claim back, so the requeued copy or a redelivery
    // starts at once. Never throwing: a requeue or a dead letter that was carried out stays carried
    // out (a throw here would report the record failed, and SQS would deliver the original again
    // beside its requeued copy or its dead letter), and a failure of the attempt itself stays the
    // error that is reported. A claim not given back is only a delay: it ends at its expiry (the
    // invocation's end), and the next delivery of the id waits until then.
    if (claim.state === 'started' && outcome !== 'completed') {
      await runtime.idempotency.abandon(ledgerId, claim.owner).catch((error: unknown) =>
        runtime.telemetry.warn(LogEvent.claimAbandonFailed, {
          id: ledgerId,
          message_id: record.messageId,
          ended: outcome ?? 'failed',
          error: (error as Error).message,
        }),
      );
    }
  }
}
