import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CIRCUIT_KEY_PREFIX } from '../../lambda/circuit/store';
import { TABLE_PARTITION_KEY } from '../../lambda/contract';
import { IDEMPOTENCY_KEY_PREFIX } from '../../lambda/idempotency/store';

/** The largest item of one kind in the table, and how many items of that kind there are. */
export interface LargestItem {
  readonly kind: 'bucket' | 'idempotency' | 'circuit';
  readonly key: string;
  /** Bytes, by DynamoDB's item size rules (what 1 WCU per KB written and 1 RCU per 4 KB read are counted on). */
  readonly bytes: number;
  readonly items: number;
}

/**
 * The table's largest bucket item, idempotency record and circuit item at the end of a run,
 * read through a client the report does not meter. A write costs 1 WCU per KB of the larger
 * of the item before and after it, so an item's size is paid on every grant.
 */
export async function largestItems(dynamodb: DynamoDBClient, tableName: string): Promise<LargestItem[]> {
  const largest = new Map<LargestItem['kind'], LargestItem>();
  let cursor: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: cursor }));
    for (const item of page.Items ?? []) {
      const key = item[TABLE_PARTITION_KEY]?.S ?? '';
      const kind = key.startsWith(IDEMPOTENCY_KEY_PREFIX)
        ? 'idempotency'
        : key.startsWith(CIRCUIT_KEY_PREFIX)
          ? 'circuit'
          : 'bucket';
      const bytes = itemBytes(item);
      const seen = largest.get(kind);
      const items = (seen?.items ?? 0) + 1;
      largest.set(kind, !seen || bytes > seen.bytes ? { kind, key, bytes, items } : { ...seen, items });
    }
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return [...largest.values()];
}

/**
 * An item's size as DynamoDB counts it: each attribute's name (UTF-8 bytes) plus its value;
 * strings and binaries by their bytes, a number by its significant digits (1 byte per two,
 * plus 1), booleans and nulls 1 byte, a map or list 3 bytes plus 1 per element and its
 * elements (a map's names included).
 */
export function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value),
    0,
  );
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  if (value.M)
    return (
      3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueBytes(v), 0)
    );
  return 0;
}

function numberBytes(text: string): number {
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}
