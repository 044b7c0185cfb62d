import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type OutcomeEvent, OutcomeEventSchema } from 'sluice-aws/producer';
import { readOutcomeSettings } from './settings';

/** What the reader writes its lines with; Powertools' `Logger` fits, a test can record them. */
export interface OutcomeLog {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
}

export interface OutcomeReaderDependencies {
  /** This product's name: the only one its subscription lets through. */
  readonly product: string;
  readonly log: OutcomeLog;
}

export type OutcomeReading =
  | { readonly ok: true; readonly outcome: OutcomeEvent }
  | { readonly ok: false; readonly problem: string };

/**
 * One message of the product's outcome queue, read as the worker's outcome event (raw delivery:
 * the body is the event's JSON). Anything else is a problem, never a guess: a body that is not
 * JSON, an event the schema refuses (every problem named), or another product's outcome, which
 * only a wrong subscription filter would let through.
 */
export function readOutcome(body: string, product: string): OutcomeReading {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: '(body): is not JSON' };
  }
  const parsed = OutcomeEventSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`,
    );
    return { ok: false, problem: problems.join('; ') };
  }
  if (parsed.data.product !== product) {
    return {
      ok: false,
      problem: `product: is "${parsed.data.product}", not this product's "${product}" (check the subscription's filter)`,
    };
  }
  return { ok: true, outcome: parsed.data };
}

/** The log line of one outcome: which message, how it ended, and the answer's status or the dead letter's reason. */
function describe(record: SQSRecord, outcome: OutcomeEvent): Record<string, unknown> {
  const common = {
    sqs_message_id: record.messageId,
    message_id: outcome.id,
    outcome: outcome.outcome,
    operation: outcome.operation,
    attempts: outcome.attempts,
    ended_at_ms: outcome.endedAtMs,
  };
  if (outcome.outcome === 'dead_lettered') {
    return { ...common, reason: outcome.reason, detail: outcome.detail };
  }
  return {
    ...common,
    status: outcome.status,
    cached: outcome.cached,
    vendor_latency_ms: outcome.vendorLatencyMs,
    // An answer too large for the topic waits in the Sluice stack's outcome bucket (README).
    ...(outcome.bodyRef ? { body_ref: outcome.bodyRef.key } : {}),
  };
}

/**
 * Reads a batch of this product's outcomes: each readable one is logged (`outcome.read`, with
 * the message id and its status or reason), each unreadable one is logged (`outcome.unreadable`)
 * and reported as a batch item failure, so it stays on the queue and, after the queue's
 * `maxReceiveCount` deliveries, waits in the queue's DLQ instead of being lost. Delivery is at
 * least once: a product that keeps what it reads keys it by the message id.
 */
export function createOutcomeReader(
  deps: OutcomeReaderDependencies,
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    for (const record of event.Records) {
      const reading = readOutcome(record.body, deps.product);
      if (reading.ok) {
        deps.log.info('outcome.read', describe(record, reading.outcome));
      } else {
        deps.log.warn('outcome.unreadable', { sqs_message_id: record.messageId, problem: reading.problem });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

let reader: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;

/** The Lambda handler on the product's outcome queue (partial batch responses on). */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  reader ??= createOutcomeReader({
    product: readOutcomeSettings().SLUICE_PRODUCT,
    log: new Logger({ serviceName: 'second-product' }),
  });
  return reader(event);
}
