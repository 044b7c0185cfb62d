import { MAX_MESSAGE_ID_LENGTH, MESSAGE_ID_PATTERN } from '../producer/message';
import {
  type CompletedOutcome,
  type DeadLetteredOutcome,
  OUTCOME_SCHEMA_VERSION,
  PRODUCT_NAME_PATTERN,
} from '../producer/outcome';
import type { VendorCallResult } from '../vendor-api/client';

/**
 * Building outcome events: pure, the clock reading passed in. Where the message's fields come
 * from a body that may not even be valid (an invalid message, a redriven one), they are read
 * leniently: a dead letter still reaches its product when the product is known.
 */

/** What routes an outcome: the message id, its product, its operation. */
export interface OutcomeRouting {
  readonly id: string;
  readonly product: string;
  readonly operation: string;
}

/** Used for the operation of a message too broken to name one. */
export const UNKNOWN_OPERATION = '(unknown)';

export function completedOutcome(input: {
  readonly routing: OutcomeRouting;
  readonly attempts: number;
  readonly endedAtMs: number;
  readonly answer: VendorCallResult;
  readonly tokenUsage?: Readonly<Record<string, number>>;
}): CompletedOutcome {
  const { routing, answer } = input;
  return {
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    outcome: 'completed',
    ...routing,
    attempts: input.attempts,
    endedAtMs: input.endedAtMs,
    status: answer.status ?? 200,
    headers: { ...(answer.headers ?? {}) },
    ...(answer.body === undefined ? {} : { body: answer.body }),
    vendorLatencyMs: answer.latencyMs,
    ...(input.tokenUsage && Object.keys(input.tokenUsage).length > 0
      ? { tokenUsage: { ...input.tokenUsage } }
      : {}),
    cached: answer.cached,
  };
}

export function deadLetteredOutcome(input: {
  readonly routing: OutcomeRouting;
  readonly attempts: number;
  readonly endedAtMs: number;
  readonly reason: string;
  readonly detail: string;
}): DeadLetteredOutcome {
  return {
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    outcome: 'dead_lettered',
    ...input.routing,
    attempts: input.attempts,
    endedAtMs: input.endedAtMs,
    reason: input.reason,
    detail: input.detail,
  };
}

/**
 * The routing of a raw message body, read without the schema: the product only when it is
 * one of `products`; the id when it is a valid message id (the schema's characters, at most
 * 128 of them), else `sqs:<MessageId>` (as the DLQ reports it). Undefined when no known product can be found: the outcome has nowhere to go.
 */
export function peekRouting(
  body: string,
  sqsMessageId: string,
  products: ReadonlySet<string>,
): OutcomeRouting | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const product = fields.product;
  if (typeof product !== 'string' || !PRODUCT_NAME_PATTERN.test(product) || !products.has(product)) {
    return undefined;
  }
  // Only an id the schema would accept keys the ledger: an over-long or odd one (up to 256 KiB of
  // body) would break the DynamoDB key and fail the record on every receive.
  const id = isMessageId(fields.id) ? fields.id : `sqs:${sqsMessageId}`;
  return { id, product, operation: peekOperation(fields) };
}

function isMessageId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_MESSAGE_ID_LENGTH && MESSAGE_ID_PATTERN.test(value);
}

function peekOperation(fields: Record<string, unknown>): string {
  if (typeof fields.operation === 'string' && fields.operation !== '') return fields.operation;
  if (typeof fields.method === 'string' && typeof fields.path === 'string') {
    return `${fields.method} ${fields.path}`.slice(0, 200);
  }
  return UNKNOWN_OPERATION;
}
