import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE_PARTITION_KEY } from '../contract';
import { SluiceStoreError } from './errors';
import { Attr, bucketToRecord, definitionToRecord, itemFromRecord } from './item-codec';
import type { BucketItem } from './model';
import type { BucketWrite, WriteOutcome } from './store';

/** Expressions and error translation of `DynamoBucketStore` (no commands here: no I/O). */

/** `SET` whole bucket/template entries and the next version, if the version is still the one seen. */
export function versionedUpdate(write: BucketWrite) {
  const names: Record<string, string> = { '#v': Attr.version };
  const values: Record<string, unknown> = {
    ':seen': write.expectedVersion,
    ':next': write.expectedVersion + 1,
  };
  const sets: string[] = ['#v = :next'];
  const add = (mapAttr: string, alias: string, entries: Record<string, unknown>) => {
    if (Object.keys(entries).length === 0) return; // DynamoDB refuses unused attribute names
    names[`#${alias}`] = mapAttr;
    Object.entries(entries).forEach(([metric, record], i) => {
      names[`#${alias}${i}`] = metric; // metric names may contain "-": always an attribute name
      values[`:${alias}${i}`] = record;
      sets.push(`#${alias}.#${alias}${i} = :${alias}${i}`);
    });
  };
  if (write.buckets)
    add(
      Attr.buckets,
      'b',
      Object.fromEntries(Object.entries(write.buckets).map(([m, b]) => [m, bucketToRecord(b)])),
    );
  if (write.templates)
    add(
      Attr.templates,
      't',
      Object.fromEntries(Object.entries(write.templates).map(([m, t]) => [m, definitionToRecord(t)])),
    );
  return {
    Key: key(write.pk),
    UpdateExpression: `SET ${sets.join(', ')}`,
    // Lets through: nobody wrote the item since we read it (every write bumps the version).
    // A missing item fails too (version absent), so a write never creates a half item.
    ConditionExpression: '#v = :seen',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
  };
}

export function key(pk: string): Record<string, AttributeValue> {
  return { [TABLE_PARTITION_KEY]: { S: pk } };
}

export function decode(item: Record<string, AttributeValue>): BucketItem {
  return itemFromRecord(unmarshall(item));
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

/** Throttling and faults without an answer become typed store errors; a client mistake stays as is. */
export function mapFailure(error: unknown): unknown {
  if (!(error instanceof Error) || error.name === 'SluiceStoreError') return error;
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
