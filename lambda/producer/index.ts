/**
 * The producer side of the worker's contract: the message schema and the `enqueue` helper,
 * published as `sluice-aws/producer`. The worker does not publish outcome events yet; when it
 * does, their schema belongs here too, so a producer reads outcomes with the same import.
 */

export {
  EnqueueError,
  type EnqueueOptions,
  type EnqueueReport,
  enqueue,
  isEnqueueError,
  isPermanentFailure,
  MAX_MESSAGE_BYTES,
  messageSizeProblem,
  SQS_BATCH_BYTES,
  SQS_BATCH_ENTRIES,
} from './enqueue';
export {
  HTTP_METHODS,
  type HttpMethod,
  MAX_MESSAGE_ID_LENGTH,
  type ParsedMessage,
  parseMessage,
  validateMessage,
  type WorkMessage,
  WorkMessageSchema,
} from './message';
