import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE_PARTITION_KEY } from '../contract';
import {
  cancellationReasons,
  conflictOrThrow,
  decode,
  key,
  mapFailure,
  storedTakeUpdate,
  templateCheck,
  versionedUpdate,
} from './dynamo-expressions';
import { SluiceStoreError } from './errors';
import { Attr, itemToRecord } from './item-codec';
import type { BucketItem } from './model';
import {
  appliedBefore,
  type BucketStore,
  type BucketWrite,
  type CreateOutcome,
  type LeaseReturn,
  type LeaseReturnOutcome,
  type ScanPage,
  type StoredTake,
  type StoredTakeOutcome,
  type TemplateCheck,
  type TransactOutcome,
  transactionAppliedBefore,
  type WriteOutcome,
} from './store';

/**
 * The DynamoDB adapter: the only runtime file that speaks DynamoDB. Failed conditions become
 * `conflict` values built from the item DynamoDB returns with ALL_OLD (no extra read);
 * throttling and network faults become `SluiceStoreError` once the client's own bounded
 * retries (maxAttempts, request timeouts: see `buildDynamoDbClient`) are spent.
 */
export class DynamoBucketStore implements BucketStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(pk: string): Promise<BucketItem | undefined> {
    const out = await this.send(() =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(pk), ConsistentRead: true }),
      ),
    );
    return out.Item ? decode(out.Item) : undefined;
  }

  async create(item: BucketItem, template?: TemplateCheck): Promise<CreateOutcome> {
    if (template) return this.createFromTemplate(item, template);
    try {
      await this.send(() =>
        this.dynamodb.send(new PutItemCommand({ TableName: this.tableName, ...putIfAbsent(item) })),
      );
      return { ok: true };
    } catch (error) {
      return conflictOrThrow(error);
    }
  }

  /** The Put and a check that the template still holds, in one transaction (first use of a key only). */
  private async createFromTemplate(item: BucketItem, template: TemplateCheck): Promise<CreateOutcome> {
    try {
      await this.send(() =>
        this.dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: this.tableName,
                  ...templateCheck(template),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Put: { TableName: this.tableName, ...putIfAbsent(item) },
              },
            ],
          }),
        ),
      );
      return { ok: true };
    } catch (error) {
      const reasons = cancellationReasons(error);
      const [check, put] = reasons;
      if (check?.Code === 'ConditionalCheckFailed') {
        return { ok: false, current: undefined, templateItem: check.Item ? decode(check.Item) : undefined };
      }
      if (put?.Code === 'ConditionalCheckFailed' && put.Item) return { ok: false, current: decode(put.Item) };
      return { ok: false, current: undefined };
    }
  }

  async write(write: BucketWrite): Promise<WriteOutcome> {
    try {
      await this.sendWithWriters([write.pk], () =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            ...versionedUpdate(write),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { ok: true };
    } catch (error) {
      const outcome = conflictOrThrow(error);
      // Refused on the version, yet holding our op: a retry of a write applied before.
      return !outcome.ok && appliedBefore(outcome.current, write.op) ? { ok: true } : outcome;
    }
  }

  async writeAll(writes: readonly BucketWrite[]): Promise<TransactOutcome> {
    const items = writes.map((w) => ({
      Update: {
        TableName: this.tableName,
        ...versionedUpdate(w),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      } as Update,
    }));
    try {
      await this.sendWithWriters(
        writes.map((w) => w.pk),
        () => this.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items })),
      );
      return { ok: true };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons.some((r) => r.Code === 'ThrottlingError' || r.Code === 'ProvisionedThroughputExceeded')) {
        throw new SluiceStoreError(`DynamoDB throttled a transaction on ${this.tableName}`, 'throttled', {
          cause: error,
        });
      }
      // ConditionalCheckFailed carries the item (ALL_OLD); TransactionConflict (another transaction
      // in flight on the item) carries none: the caller re-reads those.
      const current = new Map<string, BucketItem | undefined>();
      reasons.forEach((reason, i) => {
        const pk = writes[i]?.pk;
        if (pk === undefined || !reason.Code || reason.Code === 'None') return;
        current.set(pk, reason.Item ? decode(reason.Item) : undefined);
      });
      return transactionAppliedBefore(writes, current) ? { ok: true } : { ok: false, current };
    }
  }

  async takeStored(take: StoredTake): Promise<StoredTakeOutcome> {
    try {
      const out = await this.sendWithWriters([take.pk], () =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            ...storedTakeUpdate(take),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      if (!out.Attributes) throw new Error(`takeStored on ${take.pk}: DynamoDB returned no item`);
      return { ok: true, item: decode(out.Attributes) };
    } catch (error) {
      const conflict = conflictOrThrow(error);
      const current = conflict.ok ? undefined : conflict.current;
      // Refused because the item holds our op: a retry of a take applied before.
      if (current && appliedBefore(current, take.op)) return { ok: true, item: current };
      return { ok: false, current };
    }
  }

  async returnLease(lease: LeaseReturn): Promise<LeaseReturnOutcome> {
    const names = {
      '#b': Attr.buckets,
      '#m': lease.metric,
      '#tokens': Attr.tokensMilli,
      '#leases': Attr.leases,
      '#id': lease.leaseId,
      '#v': Attr.version,
    };
    const values: Record<string, number> = { ':cost': lease.costMilli, ':one': 1 };
    // Lets through: the lease is still held. A release and a reclaim of one lease race; exactly one
    // of them finds it, so its capacity comes back exactly once. No clamp is needed: for a concurrent
    // bucket tokens + live lease costs = capacity, so adding a held lease's cost never passes capacity.
    let condition = 'attribute_exists(#b.#m.#leases.#id)';
    if (lease.expiredBeforeMs !== undefined) {
      // Reclaim only: and only once the lease expired, so a running holder is never reclaimed.
      condition += ' AND #b.#m.#leases.#id.#exp < :now';
      Object.assign(names, { '#exp': Attr.expiresAtMs });
      values[':now'] = lease.expiredBeforeMs;
    }
    try {
      const out = await this.send(() =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(lease.pk),
            UpdateExpression:
              'SET #b.#m.#tokens = #b.#m.#tokens + :cost REMOVE #b.#m.#leases.#id ADD #v :one',
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return out.Attributes ? { ok: true, item: decode(out.Attributes) } : { ok: false };
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return { ok: false };
      throw mapFailure(error);
    }
  }

  async scan(cursor?: string, limit = 100): Promise<ScanPage> {
    const out = await this.send(() =>
      this.dynamodb.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          Limit: limit,
          // Other records share the table (the worker's idempotency records): only items
          // carrying a bucket version are buckets. Limit counts before the filter; pages go on.
          FilterExpression: 'attribute_exists(#version)',
          ExpressionAttributeNames: { '#version': Attr.version },
          ...(cursor === undefined ? {} : { ExclusiveStartKey: key(cursor) }),
        }),
      ),
    );
    const items = (out.Items ?? []).map(decode);
    const next = out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey)[TABLE_PARTITION_KEY] : undefined;
    return typeof next === 'string' ? { items, cursor: next } : { items };
  }

  /**
   * `send`, for writes that record their op in the item's `writers` map. An item written before
   * writes carried an op has no such map, and DynamoDB refuses a path into a missing map: it is
   * added once (empty, if still absent) and the write sent again.
   */
  private async sendWithWriters<T>(pks: readonly string[], run: () => Promise<T>): Promise<T> {
    try {
      return await this.send(run);
    } catch (error) {
      const e = error as Error;
      if (e.name !== 'ValidationException' || !/document path/i.test(e.message)) throw error;
      for (const pk of pks) {
        await this.send(() =>
          this.dynamodb.send(
            new UpdateItemCommand({
              TableName: this.tableName,
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
      return this.send(run);
    }
  }

  private async send<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const name = (error as Error).name;
      // Conditions and transaction cancellations are decided by the callers above.
      if (
        name === 'ConditionalCheckFailedException' ||
        name === 'TransactionCanceledException' ||
        name === 'TransactionConflictException'
      )
        throw error;
      throw mapFailure(error);
    }
  }
}

/**
 * A new item's put, alone or in the transaction that checks its template. Lets through: no item
 * with this pk. First use of a key races other clients; the loser gets the winner's item back
 * (ALL_OLD) and adopts it.
 */
function putIfAbsent(item: BucketItem) {
  return {
    Item: marshall(itemToRecord(item), { removeUndefinedValues: true }),
    ConditionExpression: 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}
