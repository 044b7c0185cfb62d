import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Operations that accept ReturnConsumedCapacity (the others are control-plane calls). */
const METERED = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
]);

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

export interface DynamoDbUsage {
  /** Data-plane requests sent, failed ones included. */
  readonly requests: number;
  readonly rcu: number;
  /** Reported WCU, plus 1 per failed conditional write: DynamoDB bills it, nobody reports it. */
  readonly wcu: number;
  readonly byOperation: Readonly<Record<string, number>>;
}

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/**
 * Counts the requests a DynamoDB client sends and the capacity they consume: asks every
 * data-plane call for `ReturnConsumedCapacity: TOTAL` (DynamoDB Local reports it for
 * successful calls) and reads it back. Works on the SDK's own clients and on the
 * DocumentClient built from them, since both share the middleware stack.
 */
export function meterDynamoDb(client: DynamoDBClient): () => DynamoDbUsage {
  let requests = 0;
  let rcu = 0;
  let wcu = 0;
  const byOperation: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      if (!METERED.has(command)) return next(args);
      requests += 1;
      byOperation[command] = (byOperation[command] ?? 0) + 1;
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= 'TOTAL';
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const entry of [consumed ?? []].flat()) {
          const isWrite = WRITES.has(command);
          rcu += entry.ReadCapacityUnits ?? (isWrite ? 0 : (entry.CapacityUnits ?? 0));
          wcu += entry.WriteCapacityUnits ?? (isWrite ? (entry.CapacityUnits ?? 0) : 0);
        }
        return result;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException') wcu += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'sluiceLocalDynamoDbMeter' },
  );
  return () => ({ requests, rcu: round(rcu), wcu: round(wcu), byOperation: { ...byOperation } });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
