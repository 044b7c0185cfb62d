import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Counts what a DynamoDB client costs: every data-plane request (retries included: the
 * counting middleware sits at the `finalizeRequest` step with low priority, inside the SDK's
 * retry loop) and the capacity DynamoDB reports for it. It injects `ReturnConsumedCapacity: TOTAL` where the caller did
 * not ask for it: a measurement tool, it changes no behaviour.
 *
 * A successful TransactWriteItems is counted by rule too (2 WCU per item), because DynamoDB
 * Local misreports it. DynamoDB bills a failed conditional write and a cancelled transaction but reports neither,
 * so they are counted by rule: 1 WCU per failed conditional write, 2 WCU per item of a
 * cancelled TransactWriteItems (transactions cost twice per item).
 */

export interface Usage {
  requests: number;
  rcu: number;
  wcu: number;
  /** Failed conditional writes and cancelled transactions (already included in `wcu`). */
  failedWrites: number;
  readonly byOperation: Record<string, number>;
}

export function emptyUsage(): Usage {
  return { requests: 0, rcu: 0, wcu: 0, failedWrites: 0, byOperation: {} };
}

export function snapshotUsage(usage: Usage): Usage {
  return { ...usage, byOperation: { ...usage.byOperation } };
}

/** `after − before`, for the requests one stage or one attempt made. */
export function usageSince(before: Usage, after: Usage): Usage {
  const byOperation: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.byOperation)) {
    const delta = count - (before.byOperation[name] ?? 0);
    if (delta > 0) byOperation[name] = delta;
  }
  return {
    requests: after.requests - before.requests,
    rcu: after.rcu - before.rcu,
    wcu: after.wcu - before.wcu,
    failedWrites: after.failedWrites - before.failedWrites,
    byOperation,
  };
}

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

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/** Adds the meter to a client (and to any DocumentClient built from it: they share the stack). */
export function attachMeter(client: DynamoDBClient, usage: Usage): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      if (!METERED.has(command)) return next(args);
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const isWrite = WRITES.has(command);
      try {
        const result = await next(args);
        if (command === 'TransactWriteItemsCommand') {
          // DynamoDB Local reports 4 WCU for every transaction whatever its size (probed with 1, 2
          // and 4 Puts); DynamoDB bills 2 per item of up to 1 KB, which every item here is.
          usage.wcu += 2 * ((input.TransactItems as unknown[] | undefined)?.length ?? 1);
          return result;
        }
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const entry of [consumed ?? []].flat()) {
          usage.rcu += entry.ReadCapacityUnits ?? (isWrite ? 0 : (entry.CapacityUnits ?? 0));
          usage.wcu += entry.WriteCapacityUnits ?? (isWrite ? (entry.CapacityUnits ?? 0) : 0);
        }
        return result;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ConditionalCheckFailedException') {
          usage.failedWrites += 1;
          usage.wcu += 1;
        } else if (name === 'TransactionCanceledException') {
          const items = (input.TransactItems as unknown[] | undefined)?.length ?? 1;
          usage.failedWrites += 1;
          usage.wcu += 2 * items;
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'sluiceBenchCapacityMeter', override: true },
  );
  client.middlewareStack.add(
    (next, context) => (args) => {
      const command = context.commandName ?? 'unknown';
      if (METERED.has(command)) {
        usage.requests += 1;
        usage.byOperation[command] = (usage.byOperation[command] ?? 0) + 1;
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'sluiceBenchRequestMeter', override: true },
  );
}

export interface DynamoDbUsage {
  /** Data-plane requests sent, retries and failed ones included. */
  readonly requests: number;
  readonly rcu: number;
  /**
   * Reported WCU, with the billing rules DynamoDB Local cannot show: 1 per failed conditional
   * write, 2 per item of a transaction (cancelled or not).
   */
  readonly wcu: number;
  readonly byOperation: Readonly<Record<string, number>>;
}

/**
 * Counts the requests a DynamoDB client sends and the capacity they consume, with the meter
 * above, so `npm start -- --report` and `npm run bench` (which imports this module) count the
 * same way: an SDK middleware that asks every data-plane call for
 * `ReturnConsumedCapacity: TOTAL` and reads it back.
 */
export function meterDynamoDb(client: DynamoDBClient): () => DynamoDbUsage {
  const usage = emptyUsage();
  attachMeter(client, usage);
  return () => {
    const now = snapshotUsage(usage);
    return { requests: now.requests, rcu: round(now.rcu), wcu: round(now.wcu), byOperation: now.byOperation };
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
