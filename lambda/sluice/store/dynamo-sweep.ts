import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { BucketItem } from '../core/model';
import type { ScanPage } from './bucket-store';
import { decode, key } from './dynamo-expressions';
import { sendMapped } from './dynamo-send';
import { SWEEP_INDEX, TABLE_PARTITION_KEY } from './table';

/**
 * The reconciler's read of the table (`DynamoBucketStore.sweep`): a page of keys from the sparse
 * sweep index, which holds bucket items only, then those items read consistently with one
 * BatchGetItem. The idempotency records and the circuit item are never in the index, so they
 * are neither scanned nor read, however many there are.
 */

/** BatchGetItem reads at most 100 keys; a page of keys is never larger. */
export const SWEEP_PAGE_MAX = 100;

/**
 * BatchGetItem hands back what it could not read in one answer (over 16 MB, or throttled) as
 * `UnprocessedKeys`. Asked again this many times at most; what is left then is reported as
 * unread for the next sweep, rather than failing the whole sweep.
 */
const READ_ROUNDS = 3;

export async function sweepPage(
  dynamodb: DynamoDBClient,
  tableName: string,
  cursor: string | undefined,
  limit: number,
): Promise<ScanPage> {
  const out = await sendMapped(() =>
    dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        IndexName: SWEEP_INDEX.name,
        Limit: Math.min(limit, SWEEP_PAGE_MAX),
        // The index's key is the item's own pk, so a pk is a whole cursor.
        ...(cursor === undefined ? {} : { ExclusiveStartKey: indexKey(cursor) }),
      }),
    ),
  );
  const pks = (out.Items ?? []).flatMap((raw) => {
    const pk = raw[TABLE_PARTITION_KEY]?.S;
    return pk === undefined ? [] : [pk];
  });
  const { found, unread } = await readItems(dynamodb, tableName, pks);
  const page = decodePage(found);
  const next = out.LastEvaluatedKey?.[TABLE_PARTITION_KEY]?.S;
  return {
    ...page,
    ...(unread.length > 0 ? { unread } : {}),
    ...(next === undefined ? {} : { cursor: next }),
  };
}

function indexKey(pk: string): Record<string, AttributeValue> {
  return { ...key(pk), [SWEEP_INDEX.partitionKey]: { S: pk } };
}

/** Consistent reads of `pks`; an item deleted since the index listed it is simply not found. */
async function readItems(
  dynamodb: DynamoDBClient,
  tableName: string,
  pks: readonly string[],
): Promise<{ found: Record<string, AttributeValue>[]; unread: string[] }> {
  const found: Record<string, AttributeValue>[] = [];
  let keys = pks.map(key);
  for (let round = 0; keys.length > 0 && round < READ_ROUNDS; round++) {
    const requested = keys;
    const out = await sendMapped(() =>
      dynamodb.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: requested, ConsistentRead: true } } }),
      ),
    );
    found.push(...(out.Responses?.[tableName] ?? []));
    keys = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
  }
  return {
    found,
    unread: keys.flatMap((k) => (k[TABLE_PARTITION_KEY]?.S ? [k[TABLE_PARTITION_KEY].S] : [])),
  };
}

/**
 * The items of a page decoded; one that cannot be (hand-edited, or written by a newer version) is
 * listed apart with its key, so that one of them never stops a sweep. Shared with the table scan.
 */
export function decodePage(
  raws: readonly Record<string, AttributeValue>[],
): Pick<ScanPage, 'items' | 'undecodable'> {
  const items: BucketItem[] = [];
  const undecodable: { pk: string; error: string }[] = [];
  for (const raw of raws) {
    try {
      items.push(decode(raw));
    } catch (error) {
      undecodable.push({ pk: raw[TABLE_PARTITION_KEY]?.S ?? '?', error: (error as Error).message });
    }
  }
  return undecodable.length > 0 ? { items, undecodable } : { items };
}
