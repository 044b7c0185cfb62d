import { AsyncLocalStorage } from 'node:async_hooks';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CIRCUIT_KEY_PREFIX } from '../../lambda/circuit/store';
import { TABLE_PARTITION_KEY } from '../../lambda/contract';
import { IDEMPOTENCY_KEY_PREFIX, IdempotencyStatus } from '../../lambda/idempotency/store';

/**
 * Counts what a DynamoDB client costs: every data-plane request (retries included: the
 * counting middleware sits at the `finalizeRequest` step with low priority, inside the SDK's
 * retry loop) and the capacity DynamoDB reports for it. It injects `ReturnConsumedCapacity: TOTAL` where the caller did
 * not ask for it: a measurement tool, it changes no behaviour.
 *
 * A successful TransactWriteItems is counted by rule too (2 WCU per item), because DynamoDB
 * Local misreports it, and a BatchExecuteStatement (1 WCU per statement, each of the worker's
 * claims being far below 1 KB), which DynamoDB Local does not report at all. DynamoDB bills a failed conditional write and a cancelled transaction but reports neither,
 * so they are counted by rule: 1 WCU per failed conditional write, 2 WCU per item of a
 * cancelled TransactWriteItems (transactions cost twice per item).
 */

/** What one purpose cost: requests sent (retries included) and capacity consumed. */
export interface PurposeUsage {
  requests: number;
  rcu: number;
  wcu: number;
}

export interface Usage {
  requests: number;
  rcu: number;
  wcu: number;
  /** Failed conditional writes and cancelled transactions (already included in `wcu`). */
  failedWrites: number;
  readonly byOperation: Record<string, number>;
  /** The same requests and capacity by what they were for (`purposeOf`). */
  readonly byPurpose: Record<string, PurposeUsage>;
}

export function emptyUsage(): Usage {
  return { requests: 0, rcu: 0, wcu: 0, failedWrites: 0, byOperation: {}, byPurpose: {} };
}

export function snapshotUsage(usage: Usage): Usage {
  return {
    ...usage,
    byOperation: { ...usage.byOperation },
    byPurpose: Object.fromEntries(Object.entries(usage.byPurpose).map(([k, v]) => [k, { ...v }])),
  };
}

/**
 * The purpose a caller declares for the DynamoDB calls it makes (and those started from
 * them): the local stack runs the SDK's acquire, release and settle and the reconciler inside
 * `dynamoPurpose.run(...)` (local/aws/purpose-tags.ts). The records the worker keeps itself
 * (idempotency, circuit) are told apart by their key, which is more precise than a tag.
 */
export const dynamoPurpose = new AsyncLocalStorage<string>();

/** The purposes the report names, in the order it lists them. */
export const Purpose = {
  grant: 'grant',
  release: 'release',
  settle: 'settle',
  handOver: 'hand-over',
  penalize: 'penalize',
  resync: 'resync',
  idempotencyClaim: 'idempotency claim',
  idempotencyComplete: 'idempotency complete',
  idempotencyDeadLetter: 'idempotency dead letter',
  idempotencyPublishMark: 'idempotency publish mark',
  idempotencyGiveBack: 'idempotency give-back',
  circuit: 'circuit',
  reconciler: 'reconciler',
  other: 'other',
} as const;

/**
 * What a request was for: an idempotency record by its key and the write's shape (a claim
 * writes IN_PROGRESS, a completion COMPLETED, the publish mark is the one update, a give-back
 * the one delete), the circuit by its key, a bucket item by the caller's tag.
 */
export function purposeOf(command: string, input: Record<string, unknown>): string {
  const pk = partitionKeyOf(input);
  if (pk?.startsWith(IDEMPOTENCY_KEY_PREFIX)) {
    // The worker's only statements: the claims of a batch, as PartiQL INSERTs.
    if (command === 'BatchExecuteStatementCommand') return Purpose.idempotencyClaim;
    if (command === 'DeleteItemCommand') return Purpose.idempotencyGiveBack;
    if (command === 'UpdateItemCommand') {
      // An update that writes a status is a claim or an end; one that writes none, the publish mark.
      const values = Object.values((input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>);
      const statuses = values.map((v) => v.S).filter((v) => STATUSES.has(v ?? ''));
      return statuses.length === 0 ? Purpose.idempotencyPublishMark : statusPurpose(statuses);
    }
    const item = input.Item as Record<string, AttributeValue> | undefined;
    return statusPurpose([item?.status?.S]);
  }
  if (pk?.startsWith(CIRCUIT_KEY_PREFIX)) return Purpose.circuit;
  return dynamoPurpose.getStore() ?? Purpose.other;
}

const STATUSES = new Set<string>(Object.values(IdempotencyStatus));

function statusPurpose(statuses: readonly (string | undefined)[]): string {
  if (statuses.includes(IdempotencyStatus.completed)) return Purpose.idempotencyComplete;
  if (statuses.includes(IdempotencyStatus.deadLettered)) return Purpose.idempotencyDeadLetter;
  return Purpose.idempotencyClaim;
}

function partitionKeyOf(input: Record<string, unknown>): string | undefined {
  // A PartiQL statement's first parameter is the key (the only statements sent are INSERTs that name it first).
  const statements = input.Statements as { Parameters?: AttributeValue[] }[] | undefined;
  if (statements) return statements[0]?.Parameters?.[0]?.S;
  const direct = (input.Key ?? input.Item) as Record<string, AttributeValue> | undefined;
  if (direct) return direct[TABLE_PARTITION_KEY]?.S;
  const first = (input.TransactItems as Record<string, { Key?: unknown; Item?: unknown }>[] | undefined)?.[0];
  const inner = first && Object.values(first)[0];
  const record = (inner?.Key ?? inner?.Item) as Record<string, AttributeValue> | undefined;
  return record?.[TABLE_PARTITION_KEY]?.S;
}

function purposeUsage(usage: Usage, purpose: string): PurposeUsage {
  let entry = usage.byPurpose[purpose];
  if (!entry) {
    entry = { requests: 0, rcu: 0, wcu: 0 };
    usage.byPurpose[purpose] = entry;
  }
  return entry;
}

/** `after − before`, for the requests one stage or one attempt made. */
export function usageSince(before: Usage, after: Usage): Usage {
  const byOperation: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.byOperation)) {
    const delta = count - (before.byOperation[name] ?? 0);
    if (delta > 0) byOperation[name] = delta;
  }
  const byPurpose: Record<string, PurposeUsage> = {};
  for (const [name, now] of Object.entries(after.byPurpose)) {
    const was = before.byPurpose[name] ?? { requests: 0, rcu: 0, wcu: 0 };
    const delta = { requests: now.requests - was.requests, rcu: now.rcu - was.rcu, wcu: now.wcu - was.wcu };
    if (delta.requests > 0 || delta.rcu > 0 || delta.wcu > 0) byPurpose[name] = delta;
  }
  return {
    requests: after.requests - before.requests,
    rcu: after.rcu - before.rcu,
    wcu: after.wcu - before.wcu,
    failedWrites: after.failedWrites - before.failedWrites,
    byOperation,
    byPurpose,
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
  'BatchExecuteStatementCommand',
]);

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'BatchExecuteStatementCommand',
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
      const byPurpose = purposeUsage(usage, purposeOf(command, input));
      const add = (rcu: number, wcu: number) => {
        usage.rcu += rcu;
        usage.wcu += wcu;
        byPurpose.rcu += rcu;
        byPurpose.wcu += wcu;
      };
      try {
        const result = await next(args);
        if (command === 'TransactWriteItemsCommand') {
          // DynamoDB Local reports 4 WCU for every transaction whatever its size (probed with 1, 2
          // and 4 Puts); DynamoDB bills 2 per item of up to 1 KB, which every item here is.
          add(0, 2 * ((input.TransactItems as unknown[] | undefined)?.length ?? 1));
          return result;
        }
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        if (command === 'BatchExecuteStatementCommand' && consumed === undefined) {
          // Every statement is billed, the refused ones (an item stood) as failed conditional writes.
          const responses = (result.output as { Responses?: { Error?: unknown }[] }).Responses ?? [];
          usage.failedWrites += responses.filter((response) => response.Error !== undefined).length;
          add(0, responses.length);
          return result;
        }
        for (const entry of [consumed ?? []].flat()) {
          add(
            entry.ReadCapacityUnits ?? (isWrite ? 0 : (entry.CapacityUnits ?? 0)),
            entry.WriteCapacityUnits ?? (isWrite ? (entry.CapacityUnits ?? 0) : 0),
          );
        }
        return result;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ConditionalCheckFailedException') {
          usage.failedWrites += 1;
          add(0, 1);
        } else if (name === 'TransactionCanceledException') {
          const items = (input.TransactItems as unknown[] | undefined)?.length ?? 1;
          usage.failedWrites += 1;
          add(0, 2 * items);
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
        purposeUsage(usage, purposeOf(command, args.input as Record<string, unknown>)).requests += 1;
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
  /** Requests, RCU and WCU by purpose (grant, release, settle, idempotency ..., circuit, reconciler). */
  readonly byPurpose: Readonly<Record<string, PurposeUsage>>;
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
    return {
      requests: now.requests,
      rcu: round(now.rcu),
      wcu: round(now.wcu),
      byOperation: now.byOperation,
      byPurpose: Object.fromEntries(
        Object.entries(now.byPurpose).map(([k, v]) => [k, { ...v, rcu: round(v.rcu), wcu: round(v.wcu) }]),
      ),
    };
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
