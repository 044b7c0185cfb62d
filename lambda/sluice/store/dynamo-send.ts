import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { WriteOutcome } from './bucket-store';
import { decode, key } from './dynamo-expressions';
import { isConditionFailed, mapStoreFailure } from './dynamo-failures';
import { Attr } from './item-codec';

/**
 * How the DynamoDB adapter sends a call and what a failure means: a failed condition becomes a
 * `conflict` value, throttling and faults without an answer a `SluiceStoreError`.
 */

/**
 * Sends one call; a failed condition or a cancelled transaction is thrown as is for the caller
 * to decide, any other failure mapped (`mapStoreFailure`).
 */
export async function sendMapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const name = (error as Error).name;
    // Conditions and transaction cancellations are decided by the callers (the store's methods).
    if (
      isConditionFailed(error) ||
      name === 'TransactionCanceledException' ||
      name === 'TransactionConflictException'
    )
      throw error;
    throw mapStoreFailure(error);
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
        if (!isConditionFailed(missing)) throw missing;
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
  if ((error as Error).name !== 'TransactionCanceledException' || !reasons) throw mapStoreFailure(error);
  return reasons;
}

export function conflictOrThrow(error: unknown): WriteOutcome {
  if (isConditionFailed(error)) {
    return { ok: false, current: error.Item ? decode(error.Item) : undefined };
  }
  // A plain write that meets an in-flight transaction: nothing known about the item, re-read.
  if ((error as Error).name === 'TransactionConflictException') return { ok: false, current: undefined };
  throw mapStoreFailure(error);
}
