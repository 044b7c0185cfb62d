/**
 * The producer side of the worker's contract, published as `sluice-aws/producer`: the message
 * schema, the `enqueue` helper and the outcome event a product receives.
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
export {
  type BodyRef,
  BodyRefSchema,
  type CompletedOutcome,
  CompletedOutcomeSchema,
  type DeadLetteredOutcome,
  DeadLetteredOutcomeSchema,
  OUTCOME_HEADERS,
  OUTCOME_SCHEMA_VERSION,
  type OutcomeEvent,
  OutcomeEventSchema,
  PRODUCT_NAME_PATTERN,
  ProductNameSchema,
  parseOutcomeEvent,
} from './outcome';
