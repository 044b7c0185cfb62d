import type { SQSRecord } from 'aws-lambda';
import { DeadLetterReason, idempotencyId, LogEvent, Metric, SLOT_MARGIN_SECONDS } from '../../contract';
import { type OutcomeRouting, peekRouting } from '../../outcomes/build';
import { contextAt, expiredOnArrival, requeueOrDeadLetter } from '../policy/decision';
import type { WorkerRuntime } from '../runtime';
import { throughCircuit } from './circuit-guard';
import { completeDelivery, endDelivery, type MessageOutcome } from './endings';
import { prepareRecord } from './prepare';
import { runAttempts } from './run-attempts';

export type { MessageOutcome } from './endings';

/**
 * One SQS record through the decision tree, with the invocation's slot deadline (deadline.ts),
 * top to bottom: parse → idempotency claim → age on arrival → vendor circuit → attempts
 * (acquire → call → settle → decide) → outcome → end. Expected outcomes (invalid, duplicate,
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
    // Its outcome still reaches the product when the body names a known one.
    const invalid = {
      kind: 'dead_letter',
      reason: DeadLetterReason.invalidMessage,
      detail: prepared.detail,
    } as const;
    return endDelivery(invalid, record, prepared.delivery, runtime, routingOf(record, runtime));
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
  if (claim.state === 'in_progress') {
    // Another delivery of the same id holds a live claim: come back after it has ended either way.
    const waitSeconds = Math.max(0, (claim.expiresAtMs - nowMs) / 1000);
    const later = requeueOrDeadLetter(
      waitSeconds,
      'same id in progress elsewhere',
      contextAt(prepared.context, runtime.clock()),
    );
    return endDelivery(later, record, delivery, runtime);
  }
  let outcome: MessageOutcome | undefined;
  try {
    const expired = expiredOnArrival(contextAt(prepared.context, runtime.clock()));
    if (expired) {
      outcome = await endDelivery(expired, record, delivery, runtime, routing);
      return outcome;
    }
    const attempt = await throughCircuit(prepared, runtime, (guarded) => runAttempts(prepared, guarded));
    outcome =
      attempt.action.kind === 'done'
        ? await completeDelivery(attempt, prepared, runtime)
        : await endDelivery(attempt.action, record, delivery, runtime, routing);
    return outcome;
  } finally {
    // Anything but a completion gives the claim back, so the requeued copy or a redelivery starts at once.
    if (outcome !== 'completed')
      await abandonClaim(runtime, ledgerId, claim.owner, record.messageId, outcome);
  }
}

/**
 * Gives a claim back, never throwing: a requeue or a dead letter that was carried out stays
 * carried out (a throw here would report the record failed, and SQS would deliver the original
 * again beside its requeued copy or its dead letter), and a failure of the attempt itself stays
 * the error that is reported. A claim not given back is only a delay: it ends at its expiry
 * (the invocation's end), and the next delivery of the id waits until then.
 */
async function abandonClaim(
  runtime: WorkerRuntime,
  ledgerId: string,
  owner: string,
  messageId: string,
  outcome: MessageOutcome | undefined,
): Promise<void> {
  try {
    await runtime.idempotency.abandon(ledgerId, owner);
  } catch (error) {
    runtime.telemetry.warn(LogEvent.claimAbandonFailed, {
      id: ledgerId,
      message_id: messageId,
      ended: outcome ?? 'failed',
      error: (error as Error).message,
    });
  }
}

/** The routing of a message the worker cannot read in full; logged when its outcome has nowhere to go. */
function routingOf(record: SQSRecord, runtime: WorkerRuntime): OutcomeRouting | undefined {
  const routing = peekRouting(record.body, record.messageId, runtime.productSet);
  if (!routing && runtime.outcomes.enabled) {
    runtime.telemetry.warn(LogEvent.outcomeUnroutable, { message_id: record.messageId });
  }
  return routing;
}
