/**
 * SQS message attributes Sluice reads and writes. They belong to the producer's side of the
 * contract, so that enqueuing needs nothing of the worker or of the SDK's DynamoDB client;
 * lambda/contract.ts re-exports them for the worker.
 */
/** Message attributes carried across requeues (a re-sent message is a new message). */
export const MessageAttr = {
  attempt: 'sluice-attempt',
  firstSeenAtMs: 'sluice-first-seen-at-ms',
  /** A copy of a record the pool never started (no time left): it starts first in its next batch. */
  unstarted: 'sluice-unstarted',
  deadLetterReason: 'sluice-dlq-reason',
  deadLetterDetail: 'sluice-dlq-detail',
} as const;

/**
 * The message group of a message on the standard work queue: its product. SQS fair queues
 * (message groups on a standard queue) then keep one product's backlog from delaying the
 * others' messages: the queue serves the quiet groups' messages ahead of a noisy group's
 * backlog (docs/worker.md, "Fair shares"). A message without a product has no group.
 * Requeues keep the group, so a message keeps its place among its product's.
 */
export function messageGroupOf(product: unknown): { MessageGroupId?: string } {
  return typeof product === 'string' && product.length > 0 ? { MessageGroupId: product } : {};
}

/** The group of a message body as sent (the worker requeues bodies it did not parse again). */
export function messageGroupOfBody(body: string): { MessageGroupId?: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    return messageGroupOf(
      typeof parsed === 'object' && parsed !== null ? (parsed as { product?: unknown }).product : undefined,
    );
  } catch {
    return {};
  }
}
