import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SluiceStoreError } from '../errors';

/**
 * The failure vocabulary of a DynamoDB call on the bucket table, one for every store that writes
 * to it (the SDK's buckets, the worker's idempotency records, the vendor circuit): a failed
 * condition is an answer the caller decides on (`isConditionFailed`); throttling and faults
 * without an answer become a `SluiceStoreError` with the AWS error as its `cause`
 * (`mapStoreFailure`, or `sendMapped` around the call, in dynamo-send.ts); anything else is a
 * client mistake and stays as it is.
 */

/** A call refused by its condition; `Item` is the item as it is, when the call asked for it (`ALL_OLD`). */
export interface ConditionFailed extends Error {
  readonly Item?: Record<string, AttributeValue>;
}

/**
 * Whether a call was refused by its condition (`ConditionalCheckFailedException`). Recognised by
 * name, not by class: an error built by another copy of the AWS SDK's DynamoDB client (a
 * product's own bundle) is the same answer.
 */
export function isConditionFailed(error: unknown): error is ConditionFailed {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'ConditionalCheckFailedException'
  );
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/**
 * Throttling and faults without an answer become typed store errors; a client mistake stays as
 * is. Only what went through the AWS SDK's send (its retry step stamps `$metadata` on every error,
 * network ones included) can be the store's fault: an error raised before sending (a number
 * DynamoDB cannot encode, a bug) is not "DynamoDB is unavailable".
 */
export function mapStoreFailure(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof SluiceStoreError || !('$metadata' in error)) return error;
  const meta = error as { $fault?: string; $metadata?: { httpStatusCode?: number } };
  if (THROTTLING.has(error.name)) {
    return new SluiceStoreError(
      `DynamoDB kept throttling after bounded retries: ${error.name}`,
      'throttled',
      { cause: error },
    );
  }
  if (meta.$metadata?.httpStatusCode === undefined || meta.$fault === 'server') {
    return new SluiceStoreError(`DynamoDB is unavailable: ${error.name}: ${error.message}`, 'unavailable', {
      cause: error,
    });
  }
  return error;
}
