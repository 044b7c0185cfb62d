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
