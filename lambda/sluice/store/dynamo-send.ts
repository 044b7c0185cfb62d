import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SluiceStoreError } from '../errors';
import type { WriteOutcome } from './bucket-store';
import { decode, key } from './dynamo-expressions';
import { Attr } from './item-codec';

/**
 * How the DynamoDB adapter sends a call and what a failure means: a failed condition becomes a
 * `conflict` value, throttling and faults without an answer a `SluiceStoreError`.
 */

/**
 * Sends one call; a failed condition or a cancelled transaction is thrown as is for the caller
 * to decide, any other failure mapped (`mapFailure`).
 */
export async function sendMapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const name = (error as Error).name;
    // Conditions and transaction cancellations are decided by the callers (the store's methods).
    if (
      name === 'ConditionalCheckFailedException' ||
      name === 'TransactionCanceledException' ||
      name === 'TransactionConflictException'
    )
      throw error;
    throw mapFailure(error);
  }
}

/**
 * `sendMapped`, for writes that record their op in the item's `writers` map. An item written before
 * writes carried an op has no such map, and DynamoDB refuses a path into a missing map: it is
 * added once (empty, if still absent) and the write sent again.
 */
export async function sendWithWriters<T>(
  dynamodb: DynamoDBClient,
  tableName: string,
  pks: readonly string[],
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await sendMapped(run);
  } catch (error) {
    const e = error as Error;
    if (e.name !== 'ValidationException' || !/document path/i.test(e.message)) throw error;
    for (const pk of pks) {
      await sendMapped(() =>
        dynamodb.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(pk),
            UpdateExpression: 'SET #w = if_not_exists(#w, :empty)',
            ConditionExpression: 'attribute_exists(#v)',
            ExpressionAttributeNames: { '#w': Attr.writers, '#v': Attr.version },
            ExpressionAttributeValues: { ':empty': { M: {} } },
          }),
        ),
      ).catch((missing: unknown) => {
        if ((missing as Error).name !== 'ConditionalCheckFailedException') throw missing;
      });
    }
    return sendMapped(run);
  }
}

export interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, AttributeValue>;
}

/** The per-item reasons of a cancelled transaction; any other failure is mapped and thrown. */
export function cancellationReasons(error: unknown): readonly CancellationReason[] {
  const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
  if ((error as Error).name !== 'TransactionCanceledException' || !reasons) throw mapFailure(error);
  return reasons;
}

export function conflictOrThrow(error: unknown): WriteOutcome {
  const name = (error as Error).name;
  if (name === 'ConditionalCheckFailedException') {
    const item = (error as { Item?: Record<string, AttributeValue> }).Item;
    return { ok: false, current: item ? decode(item) : undefined };
  }
  // A plain write that meets an in-flight transaction: nothing known about the item, re-read.
  if (name === 'TransactionConflictException') return { ok: false, current: undefined };
  throw mapFailure(error);
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
export function mapFailure(error: unknown): unknown {
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
