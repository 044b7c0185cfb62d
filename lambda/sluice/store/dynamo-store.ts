import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { BucketItem } from '../core/model';
import {
  appliedBefore,
  type BucketWrite,
  type LeaseHandOver,
  type StoredTake,
  transactionAppliedBefore,
} from '../core/writes';
import { SluiceError, SluiceStoreError } from '../errors';
import type {
  BucketStore,
  CreateOutcome,
  LeaseReturn,
  LeaseReturnOutcome,
  ScanPage,
  StoredTakeOutcome,
  TemplateCheck,
  TransactOutcome,
  WriteOutcome,
} from './bucket-store';
import {
  decode,
  key,
  leaseHandOverUpdate,
  leaseReturnUpdate,
  putIfAbsent,
  storedTakeUpdate,
  templateCheck,
  versionedUpdate,
} from './dynamo-expressions';
import { isConditionFailed, mapStoreFailure } from './dynamo-failures';
import { cancellationReasons, conflictOrThrow, sendMapped, sendWithWriters } from './dynamo-send';
import { decodePage, SWEEP_PAGE_MAX, sweepPage } from './dynamo-sweep';
import { Attr } from './item-codec';
import { SWEEP_INDEX, TABLE_PARTITION_KEY } from './table';

/**
 * The DynamoDB adapter (with dynamo-expressions.ts, dynamo-send.ts and dynamo-sweep.ts, the only runtime code
 * that speaks DynamoDB). Failed conditions become `conflict` values built from the item
 * DynamoDB returns with ALL_OLD (no extra read); throttling and network faults become
 * `SluiceStoreError` once the client's own bounded retries (maxAttempts, request timeouts: see
 * `buildDynamoDbClient`) are spent.
 */
export class DynamoBucketStore implements BucketStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(pk: string): Promise<BucketItem | undefined> {
    const out = await sendMapped(() =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(pk), ConsistentRead: true }),
      ),
    );
    return out.Item ? decode(out.Item) : undefined;
  }

  async create(item: BucketItem, template?: TemplateCheck): Promise<CreateOutcome> {
    if (template) return this.createFromTemplate(item, template);
    try {
      await sendMapped(() =>
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
      await sendMapped(() =>
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
      await sendWithWriters(this.dynamodb, this.tableName, [write.pk], () =>
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
      await sendWithWriters(
        this.dynamodb,
        this.tableName,
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

  takeStored(take: StoredTake): Promise<StoredTakeOutcome> {
    return this.updateCarryingOp('takeStored', take.pk, take.op, storedTakeUpdate(take));
  }

  handOverLeases(handOver: LeaseHandOver): Promise<StoredTakeOutcome> {
    return this.updateCarryingOp('handOverLeases', handOver.pk, handOver.op, leaseHandOverUpdate(handOver));
  }

  /**
   * One conditional UpdateItem that carries `op`: applied (the item after it), or refused (the
   * item as it is). Refused because the item already holds `op`, it is the repeat of a write
   * applied before whose answer was lost, and answers as the first did.
   */
  private async updateCarryingOp(
    what: string,
    pk: string,
    op: StoredTake['op'],
    update: ReturnType<typeof storedTakeUpdate>,
  ): Promise<StoredTakeOutcome> {
    try {
      const out = await sendWithWriters(this.dynamodb, this.tableName, [pk], () =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            ...update,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      if (!out.Attributes) throw new SluiceError(`${what} on ${pk}: DynamoDB returned no item`);
      return { ok: true, item: decode(out.Attributes) };
    } catch (error) {
      const conflict = conflictOrThrow(error);
      const current = conflict.ok ? undefined : conflict.current;
      if (current && appliedBefore(current, op)) return { ok: true, item: current };
      return { ok: false, current };
    }
  }

  async returnLease(lease: LeaseReturn): Promise<LeaseReturnOutcome> {
    try {
      const out = await sendMapped(() =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            ...leaseReturnUpdate(lease),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return out.Attributes ? { ok: true, item: decode(out.Attributes) } : { ok: false };
    } catch (error) {
      if (isConditionFailed(error)) return { ok: false };
      throw mapStoreFailure(error);
    }
  }

  async scan(cursor?: string, limit = 100): Promise<ScanPage> {
    const out = await sendMapped(() =>
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
    const raws = out.Items ?? [];
    const unmarked = raws.flatMap((raw) => {
      const pk = raw[TABLE_PARTITION_KEY]?.S;
      return pk !== undefined && raw[SWEEP_INDEX.partitionKey] === undefined ? [pk] : [];
    });
    const next = out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey)[TABLE_PARTITION_KEY] : undefined;
    const page = { ...decodePage(raws), ...(unmarked.length > 0 ? { unmarked } : {}) };
    return typeof next === 'string' ? { ...page, cursor: next } : page;
  }

  sweep(cursor?: string, limit = SWEEP_PAGE_MAX): Promise<ScanPage> {
    return sweepPage(this.dynamodb, this.tableName, cursor, limit);
  }

  async markForSweep(pk: string): Promise<void> {
    try {
      await sendMapped(() =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(pk),
            UpdateExpression: 'SET #sweep = :pk',
            // Lets through: a bucket item (it has a version) not in the index yet. A record that
            // is not a bucket never joins it; a failed condition means there is nothing to do.
            ConditionExpression: 'attribute_exists(#v) AND attribute_not_exists(#sweep)',
            ExpressionAttributeNames: { '#sweep': SWEEP_INDEX.partitionKey, '#v': Attr.version },
            ExpressionAttributeValues: { ':pk': { S: pk } },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
}
