import type { SQSRecord } from 'aws-lambda';
import { DeadLetterReason, LogEvent, Metric, MetricDimension, SLOT_MARGIN_SECONDS } from '../contract';
import { completedOutcome, deadLetteredOutcome, type OutcomeRouting, peekRouting } from '../outcomes/build';
import { parseMessage, type WorkMessage } from '../producer/message';
import { isVendorRequestError, resolveRequest } from '../vendor-api/request';
import { type Delivery, readDelivery } from './attributes';
import { throughCircuit } from './circuit';
import { MessageCostError, messageCosts } from './costs';
import { expiredOnArrival, type NextAction, requeueOrDeadLetter } from './decision';
import { type Attempt, runAttempts } from './run-attempts';
import { context, type PreparedMessage, type WorkerRuntime } from './runtime';

/** How one message ended in this invocation. Every one is final for this delivery: it is acknowledged. */
export type MessageOutcome = 'completed' | 'duplicate' | 'requeued' | 'dead_lettered';

/**
 * One SQS record through the decision tree, with the invocation's slot deadline
 * (deadline.ts). Expected outcomes (invalid, duplicate, capacity,
 * vendor refusals) are values; only surprises (a store or queue that failed) throw, and the
 * handler reports those as batch item failures so SQS delivers the message again.
 */
export async function processRecord(
  record: SQSRecord,
  deadlineMs: number,
  runtime: WorkerRuntime,
): Promise<MessageOutcome> {
  const nowMs = runtime.clock();
  const delivery = readDelivery(record, nowMs);
  const prepared = prepare(record, delivery, deadlineMs, runtime);
  if (typeof prepared === 'string') {
    runtime.telemetry.warn(LogEvent.messageInvalid, { message_id: record.messageId, detail: prepared });
    // Its outcome still reaches the product when the body names a known one.
    return apply(
      { kind: 'dead_letter', reason: DeadLetterReason.invalidMessage, detail: prepared },
      record,
      delivery,
      runtime,
      routingOf(record, runtime),
    );
  }
  const claim = await runtime.idempotency.begin(
    prepared.message.id,
    nowMs,
    deadlineMs + SLOT_MARGIN_SECONDS * 1000,
  );
  if (claim.state === 'ended') {
    // The id ended before; a publish that failed then is retried now, from the stored event.
    const republished = await runtime.outcomes.republish(prepared.message.id, claim.outcome);
    runtime.telemetry.count(Metric.duplicatesSkipped);
    runtime.telemetry.info(LogEvent.messageDuplicate, {
      id: prepared.message.id,
      message_id: record.messageId,
      republished,
    });
    return 'duplicate';
  }
  if (claim.state === 'in_progress') {
    // Another delivery of the same id holds a live claim: come back after it has ended either way.
    const waitSeconds = Math.max(0, (claim.expiresAtMs - nowMs) / 1000);
    return apply(
      requeueOrDeadLetter(waitSeconds, 'same id in progress elsewhere', context(prepared, runtime, false)),
      record,
      delivery,
      runtime,
    );
  }
  let outcome: MessageOutcome | undefined;
  try {
    const expired = expiredOnArrival(context(prepared, runtime, false));
    if (expired) {
      outcome = await apply(expired, record, delivery, runtime, prepared.routing);
      return outcome;
    }
    const attempt = await throughCircuit(prepared, runtime, (guarded) => runAttempts(prepared, guarded));
    outcome = await finish(attempt, prepared, runtime);
    return outcome;
  } finally {
    // Anything but a completion gives the claim back, so the requeued copy or a redelivery starts at once.
    if (outcome !== 'completed') await runtime.idempotency.abandon(prepared.message.id, claim.owner);
  }
}

function prepare(
  record: SQSRecord,
  delivery: Delivery,
  deadlineMs: number,
  runtime: WorkerRuntime,
): PreparedMessage | string {
  const parsed = parseMessage(record.body);
  if (!parsed.ok) return parsed.reason;
  const productProblem = checkProduct(parsed.message, runtime);
  if (productProblem) return productProblem;
  try {
    const request = resolveRequest(runtime.settings, parsed.message);
    const costs = messageCosts(runtime.settings, parsed.message, request.operation);
    const { id, product } = parsed.message;
    return {
      record,
      message: parsed.message,
      request,
      costs,
      delivery,
      deadlineMs,
      ...(product === undefined ? {} : { routing: { id, product, operation: request.operation } }),
    };
  } catch (error) {
    if (isVendorRequestError(error) || error instanceof MessageCostError) return error.message;
    throw error;
  }
}

/** A product must be one of the configured ones; with products configured, a message must name one. */
function checkProduct(message: WorkMessage, runtime: WorkerRuntime): string | undefined {
  const known = runtime.products.length > 0 ? runtime.products.join(', ') : 'none are configured';
  if (message.product === undefined) {
    return runtime.products.length > 0 ? `product: is required (known: ${known})` : undefined;
  }
  if (!runtime.productSet.has(message.product)) {
    return `product: "${message.product}" is not a configured product (known: ${known})`;
  }
  return undefined;
}

/** The routing of a message the worker cannot read in full; logged when its outcome has nowhere to go. */
function routingOf(record: SQSRecord, runtime: WorkerRuntime): OutcomeRouting | undefined {
  const routing = peekRouting(record.body, record.messageId, runtime.productSet);
  if (!routing && runtime.outcomes.enabled) {
    runtime.telemetry.warn(LogEvent.outcomeUnroutable, { message_id: record.messageId });
  }
  return routing;
}

async function finish(
  attempt: Attempt,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): Promise<MessageOutcome> {
  if (attempt.action.kind !== 'done')
    return apply(attempt.action, prepared.record, prepared.delivery, runtime, prepared.routing);
  const nowMs = runtime.clock();
  // Stored with the completion, then published: a failed publish is retried by the next delivery.
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
  const stored = await runtime.outcomes.storeCompleted(event, prepared.message.id, nowMs);
  const ageSeconds = (nowMs - prepared.delivery.firstSeenAtMs) / 1000;
  runtime.telemetry.count(Metric.completed);
  runtime.telemetry.seconds(Metric.messageAge, ageSeconds);
  runtime.telemetry.info(LogEvent.messageCompleted, {
    id: prepared.message.id,
    operation: prepared.request.operation,
    attempt: prepared.delivery.attempt,
    age_seconds: ageSeconds,
    cached: attempt.cached,
  });
  // Completed from here on; a failed publish throws, and the next delivery publishes the stored event.
  await runtime.outcomes.publishCompleted(prepared.message.id, stored);
  return 'completed';
}

/**
 * Carries out a requeue or a dead-letter; the original delivery is then acknowledged. A
 * dead letter with a `routing` publishes its final outcome after the DLQ send.
 */
export async function apply(
  action: NextAction,
  record: SQSRecord,
  delivery: Delivery,
  runtime: WorkerRuntime,
  routing?: OutcomeRouting,
): Promise<MessageOutcome> {
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
  if (action.kind === 'dead_letter') {
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
  throw new Error(`apply() got action "${action.kind}": only requeue and dead_letter end a delivery here`);
}
