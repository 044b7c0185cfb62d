/** The Sluice SDK: cooperative token buckets in one DynamoDB table (docs/design.md). */

export { type AcquireOptions, PRODUCT_PATTERN } from './acquire';
export { buildDynamoDbClient, SluiceClient, type SluiceClientOptions } from './client';
export { SluiceConfig, type SluiceLogLevel, type SluiceSettings } from './config';
export { bucketName } from './dimensions';
export { DynamoBucketStore } from './dynamo-store';
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
export {
  countsTokens,
  holdsLeases,
  isLimitType,
  LIMIT_TYPES,
  type LimitTypeTraits,
  limitTypeTraits,
} from './limit-types';
export type { SluiceLogger } from './logger';
export { MemoryBucketStore } from './memory-store';
export { type BucketDefinitionState, type BucketItem, type BucketState, MAX_HOLD_SECONDS } from './model';
export type { BucketStore, BucketWrite, LeaseReturn, ScanPage, TransactOutcome, WriteOutcome } from './store';
export { createBucketTable } from './table';
export * from './types';
