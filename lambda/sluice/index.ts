/**
 * The Sluice SDK's one entrance (also the package's `.` export): everything outside
 * lambda/sluice/ imports the SDK from here. How the SDK is layered behind it: docs/design.md,
 * "How the SDK is layered".
 */

export {
  AWS_CALL_WORST_CASE_MS,
  AWS_CLIENT_MAX_ATTEMPTS,
  AWS_CONNECTION_TIMEOUT_MS,
  AWS_REQUEST_TIMEOUT_MS,
  AWS_RETRY_DELAY_BOUND_MS,
  AWS_SOCKET_IDLE_TIMEOUT_MS,
  type BoundedAwsClientOptions,
  boundedAwsClientOptions,
} from './aws-client-bounds';
export { buildDynamoDbClient, SluiceClient, type SluiceClientOptions } from './client';
export { SluiceConfig, SluiceEnv } from './config';
export { bucketName, MAX_WINDOW_SECONDS } from './core/dimensions';
export { SLOT_MARGIN_SECONDS } from './core/leases';
export {
  countsTokens,
  holdsLeases,
  isLimitType,
  LIMIT_TYPES,
  type LimitTypeTraits,
  limitTypeTraits,
} from './core/limit-types';
export {
  type BucketDefinitionState,
  type BucketItem,
  type BucketState,
  MAX_HOLD_SECONDS,
} from './core/model';
export type { SluiceLogLevel, SluiceSettings } from './core/settings';
export * from './core/types';
export type { BucketWrite } from './core/writes';
export {
  describeValue,
  formatConfigProblems,
  isSlotTimeoutError,
  isSluiceConfigError,
  isSluiceError,
  isSluiceInputError,
  isSluiceStoreError,
  type ProblemPlace,
  pathPlace,
  SlotTimeoutError,
  SluiceConfigError,
  SluiceError,
  SluiceInputError,
  SluiceStoreError,
  type SluiceStoreFailure,
  zodProblems,
} from './errors';
export { type AcquireOptions, PRODUCT_PATTERN } from './ops/acquire-options';
export type { SluiceLogFields, SluiceLogger } from './ops/context';
export {
  BucketLines,
  type BucketLinesOptions,
  type LineAcquireOptions,
  type LineSource,
  type Turn,
} from './ops/lines';
export { SluiceLogEvent } from './ops/log-events';
export type { BucketStore, LeaseReturn, ScanPage, TransactOutcome, WriteOutcome } from './store/bucket-store';
export { type ConditionFailed, isConditionFailed, mapStoreFailure } from './store/dynamo-failures';
export { sendMapped } from './store/dynamo-send';
export { DynamoBucketStore } from './store/dynamo-store';
export { MemoryBucketStore } from './store/memory-store';
export { createBucketTable, SWEEP_INDEX, TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE } from './store/table';
