import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type BodyRef, type OutcomeEvent, OutcomeEventSchema } from 'sluice-aws/producer';
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
  /**
   * Fetches an answer too large for the topic from the Sluice stack's outcome bucket (S3
   * GetObject, granted by `worker.grantReadBodies(reader, product)`).
   */
  readonly readBody: (ref: BodyRef) => Promise<Uint8Array>;
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
    ...(outcome.bodyRef ? { body_ref: outcome.bodyRef.key, body_bytes: outcome.bodyRef.size } : {}),
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
      const bodyProblem = reading.ok ? await checkBody(reading.outcome, deps.readBody) : undefined;
      if (reading.ok && bodyProblem === undefined) {
        deps.log.info('outcome.read', describe(record, reading.outcome));
      } else if (reading.ok) {
        // The outcome is sound but its body cannot be had now: delivered again later.
        deps.log.warn('outcome.body_unreadable', {
          sqs_message_id: record.messageId,
          message_id: reading.outcome.id,
          problem: bodyProblem,
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      } else {
        deps.log.warn('outcome.unreadable', { sqs_message_id: record.messageId, problem: reading.problem });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

/**
 * A claim-checked answer is fetched and checked against the size and SHA-256 the outcome
 * carries: undefined when it is sound (or there is none), else the problem.
 */
async function checkBody(
  outcome: OutcomeEvent,
  readBody: OutcomeReaderDependencies['readBody'],
): Promise<string | undefined> {
  if (outcome.outcome !== 'completed' || !outcome.bodyRef) return undefined;
  const ref = outcome.bodyRef;
  let bytes: Uint8Array;
  try {
    bytes = await readBody(ref);
  } catch (error) {
    return `s3://${ref.bucket}/${ref.key}: ${(error as Error).message}`;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== ref.size || sha256 !== ref.sha256) {
    return `s3://${ref.bucket}/${ref.key}: ${bytes.length} bytes with SHA-256 ${sha256}, not the ${ref.size} bytes the outcome names`;
  }
  return undefined;
}

/** S3 GetObject of one claim-checked body. */
function s3BodyReader(s3: S3Client): OutcomeReaderDependencies['readBody'] {
  return async (ref) => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    if (!answer.Body) throw new Error('empty object');
    return answer.Body.transformToByteArray();
  };
}

let reader: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;

/** The Lambda handler on the product's outcome queue (partial batch responses on). */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  reader ??= createOutcomeReader({
    product: readOutcomeSettings().SLUICE_PRODUCT,
    log: new Logger({ serviceName: 'second-product' }),
    readBody: s3BodyReader(new S3Client({})),
  });
  return reader(event);
}
