import { randomUUID } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE } from '../../lambda/contract';
import type { Dimension, LimitType } from '../../lambda/sluice';

/**
 * The documented Sluice algorithm (one bucket item per dimension, GetItem then a TransactWriteItems with a lease item per grant), kept faithful on purpose: it is the baseline
 * the project's SDK is measured against, so none of the SDK's improvements belong here.
 * One bucket item per dimension holding floats (`tokens`, `last_refill_at` in epoch seconds);
 * every acquisition is a consistent GetItem per dimension, then one TransactWriteItems with
 * each bucket's update conditioned on the version read and a lease put per dimension;
 * a cancelled transaction is retried after a jittered backoff, at most `maxRetries` times.
 */

export interface BaselineBucket {
  readonly dimension: Dimension;
  readonly limitType: LimitType;
  readonly capacity: number;
  /** Omitted for `concurrent` (no time refill). */
  readonly windowSeconds?: number;
  readonly costPerCall?: number;
}

export interface BaselineOptions {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** Epoch milliseconds. @default Date.now */
  readonly clock?: () => number;
  /** In [0, 1). @default Math.random */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 60 */
  readonly leaseTtlSeconds?: number;
  /** Version conflicts retried before giving up. @default 3 */
  readonly maxRetries?: number;
}

export type BaselineResult =
  | { readonly outcome: 'Granted'; readonly leaseIds: readonly string[]; release(): Promise<void> }
  | {
      readonly outcome: 'RetryIn';
      readonly waitSeconds: number;
      readonly dimension: Dimension;
      /** True when the retries on version conflicts ran out, not the tokens. */
      readonly contention: boolean;
    };

interface BucketItem {
  readonly capacity: number;
  readonly refill_rate: number;
  readonly tokens: number;
  readonly last_refill_at: number;
  readonly version: number;
  readonly limit_type: LimitType;
}

const BACKOFF_BASE_MS = 10;
const BACKOFF_MAX_MS = 200;
/** A concurrent bucket has no refill to compute a wait from; the documented default. */
const CONCURRENT_WAIT_SECONDS = 1;

export class UnknownDimensionError extends Error {
  override readonly name = 'UnknownDimensionError';
}

export async function createBaselineTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: TABLE_PARTITION_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

export class DocumentedSluice {
  private readonly doc: DynamoDBDocumentClient;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly leaseTtlSeconds: number;
  private readonly maxRetries: number;

  constructor(private readonly options: BaselineOptions) {
    this.doc = DynamoDBDocumentClient.from(options.dynamodb);
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.leaseTtlSeconds = options.leaseTtlSeconds ?? 60;
    this.maxRetries = options.maxRetries ?? 3;
  }

  /** Writes a full bucket (the documented seeding overwrites live state). */
  async putBucket(bucket: BaselineBucket): Promise<void> {
    const refillRate = bucket.windowSeconds ? bucket.capacity / bucket.windowSeconds : 0;
    await this.doc.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          [TABLE_PARTITION_KEY]: bucket.dimension,
          capacity: bucket.capacity,
          refill_rate: refillRate,
          tokens: bucket.capacity,
          last_refill_at: this.clock() / 1000,
          version: 0,
          limit_type: bucket.limitType,
          cost_per_call: bucket.costPerCall ?? 1,
        },
      }),
    );
  }

  /** One attempt, all or nothing over every dimension named. */
  async acquire(request: Dimension | Readonly<Record<Dimension, number>>): Promise<BaselineResult> {
    const costs: Record<Dimension, number> = typeof request === 'string' ? { [request]: 1 } : { ...request };
    let lastBackoffMs = 0;
    for (let attempt = 0; attempt <= this.maxRetries; attempt += 1) {
      const nowSec = this.clock() / 1000;
      const buckets = await this.readBuckets(Object.keys(costs));
      const short = longestWait(buckets, costs, nowSec);
      if (short) return { outcome: 'RetryIn', ...short, contention: false };
      const leaseIds = await this.commit(buckets, costs, nowSec);
      if (leaseIds) return this.granted(leaseIds, buckets, costs);
      lastBackoffMs = Math.round(this.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
      await this.sleep(lastBackoffMs);
    }
    const first = Object.keys(costs)[0] ?? '';
    return { outcome: 'RetryIn', waitSeconds: lastBackoffMs / 1000, dimension: first, contention: true };
  }

  private async readBuckets(dimensions: readonly Dimension[]): Promise<Map<Dimension, BucketItem>> {
    const items = await Promise.all(
      dimensions.map(async (dimension) => {
        const { Item } = await this.doc.send(
          new GetCommand({
            TableName: this.options.tableName,
            Key: { [TABLE_PARTITION_KEY]: dimension },
            ConsistentRead: true,
          }),
        );
        if (!Item) {
          throw new UnknownDimensionError(`Unknown dimension "${dimension}": no bucket is defined for it.`);
        }
        return [dimension, Item as BucketItem] as const;
      }),
    );
    return new Map(items);
  }

  /** The transaction; `undefined` when another writer changed a version first. */
  private async commit(
    buckets: ReadonlyMap<Dimension, BucketItem>,
    costs: Readonly<Record<Dimension, number>>,
    nowSec: number,
  ): Promise<string[] | undefined> {
    const leaseIds: string[] = [];
    const actions = [...buckets].flatMap(([dimension, bucket]) => {
      const leaseId = `lease#${dimension}#${randomUUID()}`;
      leaseIds.push(leaseId);
      const cost = costs[dimension] ?? 0;
      return [
        {
          Update: {
            TableName: this.options.tableName,
            Key: { [TABLE_PARTITION_KEY]: dimension },
            UpdateExpression: 'SET tokens = :tokens, last_refill_at = :now, version = :next',
            // Only the version read may be replaced: a concurrent writer cancels this transaction.
            ConditionExpression: 'version = :seen',
            ExpressionAttributeValues: {
              ':tokens': refilled(bucket, nowSec) - cost,
              ':now': nowSec,
              ':next': bucket.version + 1,
              ':seen': bucket.version,
            },
          },
        },
        {
          Put: {
            TableName: this.options.tableName,
            Item: {
              [TABLE_PARTITION_KEY]: leaseId,
              dimension,
              cost,
              acquired_at: nowSec,
              [TABLE_TTL_ATTRIBUTE]: Math.floor(nowSec) + this.leaseTtlSeconds,
            },
          },
        },
      ];
    });
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: actions }));
      return leaseIds;
    } catch (error) {
      if ((error as { name?: string }).name === 'TransactionCanceledException') return undefined;
      throw error;
    }
  }

  private granted(
    leaseIds: readonly string[],
    buckets: ReadonlyMap<Dimension, BucketItem>,
    costs: Readonly<Record<Dimension, number>>,
  ): BaselineResult {
    let released = false;
    const dimensions = [...buckets.keys()];
    return {
      outcome: 'Granted',
      leaseIds,
      release: async () => {
        if (released) return;
        released = true;
        await Promise.all(
          leaseIds.map((leaseId, index) => {
            const dimension = dimensions[index] ?? '';
            const concurrent = buckets.get(dimension)?.limit_type === 'concurrent';
            return concurrent
              ? this.returnSlot(leaseId, dimension, costs[dimension] ?? 0)
              : this.dropLease(leaseId);
          }),
        );
      },
    };
  }

  private async dropLease(leaseId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.options.tableName, Key: { [TABLE_PARTITION_KEY]: leaseId } }),
    );
  }

  private async returnSlot(leaseId: string, dimension: Dimension, cost: number): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: this.options.tableName,
              Key: { [TABLE_PARTITION_KEY]: leaseId },
              // Capacity comes back once: a reclaimed lease is gone already.
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
            },
          },
          {
            Update: {
              TableName: this.options.tableName,
              Key: { [TABLE_PARTITION_KEY]: dimension },
              UpdateExpression: 'ADD tokens :cost, version :one',
              ExpressionAttributeValues: { ':cost': cost, ':one': 1 },
            },
          },
        ],
      }),
    );
  }
}

/** Lazy refill in floats, as documented; elapsed time below zero credits nothing. */
function refilled(bucket: BucketItem, nowSec: number): number {
  const elapsed = Math.max(0, nowSec - bucket.last_refill_at);
  return Math.min(bucket.capacity, bucket.tokens + elapsed * bucket.refill_rate);
}

/** The dimension with the longest wait, or undefined when every bucket has enough. */
function longestWait(
  buckets: ReadonlyMap<Dimension, BucketItem>,
  costs: Readonly<Record<Dimension, number>>,
  nowSec: number,
): { waitSeconds: number; dimension: Dimension } | undefined {
  let worst: { waitSeconds: number; dimension: Dimension } | undefined;
  for (const [dimension, bucket] of buckets) {
    const missing = (costs[dimension] ?? 0) - refilled(bucket, nowSec);
    if (missing <= 0) continue;
    const waitSeconds = bucket.refill_rate > 0 ? missing / bucket.refill_rate : CONCURRENT_WAIT_SECONDS;
    if (!worst || waitSeconds > worst.waitSeconds) worst = { waitSeconds, dimension };
  }
  return worst;
}
