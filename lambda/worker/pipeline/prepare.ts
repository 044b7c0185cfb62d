import type { SQSRecord } from 'aws-lambda';
import { type OutcomeRouting, peekRouting } from '../../outcomes/build';
import { parseMessage } from '../../producer/message';
import { resolveRequest, VendorRequestError } from '../../vendor-api/request';
import { type Delivery, readDelivery, sentByWorker } from '../adapters/attributes';
import { MessageCostError, messageCosts } from '../policy/costs';
import { productProblem } from '../policy/products';
import type { PreparedMessage, WorkerRuntime } from '../runtime';

/** A record the worker cannot act on: every problem in `detail`, dead-lettered as `invalid_message`. */
export interface InvalidRecord {
  readonly kind: 'invalid';
  readonly delivery: Delivery;
  readonly detail: string;
  /** Where its outcome goes, read from the raw body: absent when no known product can be found. */
  readonly routing?: OutcomeRouting;
}

/**
 * The first step of a record: parse and validate the body, check its product and sender,
 * resolve the request, price it, and build what every decision about it knows (the record's
 * context), once.
 */
export function prepareRecord(
  record: SQSRecord,
  deadlineMs: number,
  runtime: WorkerRuntime,
): PreparedMessage | InvalidRecord {
  const delivery = readDelivery(record, runtime.clock(), runtime.ownSenderIds);
  const fromWorker = sentByWorker(record, runtime.ownSenderIds);
  const invalid = (detail: string): InvalidRecord => {
    const routing = peekRouting(record.body, record.messageId, runtime.productSet);
    return { kind: 'invalid', delivery, detail, ...(routing ? { routing } : {}) };
  };
  const parsed = parseMessage(record.body);
  if (!parsed.ok) return invalid(parsed.reason);
  const problem = productProblem(parsed.message.product, {
    products: runtime.products,
    productSet: runtime.productSet,
    // The worker's own copies were checked when they first arrived.
    sender: fromWorker ? undefined : (record.attributes?.SenderId?.split(':')[0] ?? 'an unknown sender'),
    ...(runtime.productSenders ? { productSenders: runtime.productSenders } : {}),
  });
  if (problem) return invalid(problem);
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
      context: {
        deadlineMs,
        attempt: delivery.attempt,
        firstSeenAtMs: delivery.firstSeenAtMs,
        inlineThresholdSeconds: runtime.inlineRetryThresholdSeconds,
        policy: runtime.settings.policy,
        random: runtime.random,
      },
      // productProblem let through only a configured product: the label's values are the configuration's.
      acquireOptions: product === undefined ? {} : { product },
      ...(product === undefined ? {} : { routing: { id, product, operation: request.operation } }),
    };
  } catch (error) {
    if (error instanceof VendorRequestError || error instanceof MessageCostError)
      return invalid(error.message);
    throw error;
  }
}
