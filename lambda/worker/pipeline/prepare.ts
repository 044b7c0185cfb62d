import type { SQSRecord } from 'aws-lambda';
import { parseMessage, type WorkMessage } from '../../producer/message';
import { resolveRequest, VendorRequestError } from '../../vendor-api/request';
import { type Delivery, readDelivery, sentByWorker } from '../adapters/attributes';
import { MessageCostError, messageCosts } from '../policy/costs';
import type { PreparedMessage, WorkerRuntime } from '../runtime';

/** A record the worker cannot act on: every problem in `detail`, dead-lettered as `invalid_message`. */
export interface InvalidRecord {
  readonly kind: 'invalid';
  readonly delivery: Delivery;
  readonly detail: string;
}

/**
 * The first step of a record: parse and validate the body, check its product, resolve the
 * request, price it, and build what every decision about it knows (the record's context), once.
 */
export function prepareRecord(
  record: SQSRecord,
  deadlineMs: number,
  runtime: WorkerRuntime,
): PreparedMessage | InvalidRecord {
  const delivery = readDelivery(record, runtime.clock(), runtime.ownSenderIds);
  const invalid = (detail: string): InvalidRecord => ({ kind: 'invalid', delivery, detail });
  const parsed = parseMessage(record.body);
  if (!parsed.ok) return invalid(parsed.reason);
  const productProblem =
    checkProduct(parsed.message, runtime) ?? checkSender(parsed.message, record, runtime);
  if (productProblem) return invalid(productProblem);
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
      // checkProduct let through only a configured product: the label's values are the configuration's.
      acquireOptions: product === undefined ? {} : { product },
      ...(product === undefined ? {} : { routing: { id, product, operation: request.operation } }),
    };
  } catch (error) {
    if (error instanceof VendorRequestError || error instanceof MessageCostError)
      return invalid(error.message);
    throw error;
  }
}

/**
 * With `productSenders` configured, a first delivery must come from a principal allowed for the
 * product it names (SQS `SenderId`): a product cannot claim another's name, its buckets' label
 * and its outcomes. The worker's own copies were checked when they first arrived.
 */
function checkSender(message: WorkMessage, record: SQSRecord, runtime: WorkerRuntime): string | undefined {
  if (
    !runtime.productSenders ||
    message.product === undefined ||
    sentByWorker(record, runtime.ownSenderIds)
  ) {
    return undefined;
  }
  const sender = record.attributes?.SenderId?.split(':')[0] ?? 'an unknown sender';
  const allowed = runtime.productSenders[message.product] ?? [];
  if (allowed.includes(sender)) return undefined;
  return `product: "${message.product}" may not be sent by ${sender} (allowed: ${allowed.join(', ') || 'none'})`;
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
