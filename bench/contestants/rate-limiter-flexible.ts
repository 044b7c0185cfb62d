import { CreateTableCommand, DynamoDB, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { RateLimiterDynamo, RateLimiterRes } from 'rate-limiter-flexible';
import type { Dimension } from '../../lambda/sluice';
import { attachMeter } from '../../local/aws/dynamodb-meter';
import type { Contestant } from './contestant';
import { benchClientConfig } from './dynamodb-config';

/** Every caller limits the same key: one shared quota, as with a vendor's API key. */
const KEY = 'vendor-api-key';

/**
 * rate-limiter-flexible 11's DynamoDB store: a fixed window per limit (`points` per `duration`
 * seconds), one item per key holding `points` and `expire`. It would create its own table with
 * provisioned throughput (25 RCU/WCU) unless told `tableCreated: true`; the bench creates it
 * on demand like the others, with the key schema the library expects (`key`, a string), and
 * says `ttlSet: true` so no DescribeTimeToLive call is counted against it.
 *
 * Several limits: `RateLimiterUnion.consume(key, points)` charges the same points to every
 * limiter, so rpm 1 + tpm 500 cannot go through it. The bench does what the union does, with
 * a cost per limit: every limiter consumes at once, and the attempt is granted only when none
 * refused. Nothing is given back when one refuses: the other limiters stay charged.
 */
export const rateLimiterFlexible: Contestant = {
  name: 'rateLimiterFlexible',
  async prepare(endpoint, tableName, limits) {
    const admin = new DynamoDB(benchClientConfig(endpoint));
    await admin.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return {
      /** The stored counter of each limit: `points` consumed in the current window. */
      async storedState() {
        const entries = await Promise.all(
          limits.map(async (limit) => {
            const { Item } = await admin.send(
              new GetItemCommand({ TableName: tableName, Key: { key: { S: `${limit.dimension}:${KEY}` } } }),
            );
            return [
              limit.dimension,
              { points: Number(Item?.points?.N ?? 0), limit: limit.capacity },
            ] as const;
          }),
        );
        return Object.fromEntries(entries);
      },
      newClient(usage) {
        const storeClient = new DynamoDB(benchClientConfig(endpoint));
        attachMeter(storeClient, usage);
        const limiters = new Map<Dimension, RateLimiterDynamo>(
          limits.map((limit) => [
            limit.dimension,
            new RateLimiterDynamo({
              storeClient,
              tableName,
              tableCreated: true,
              ttlSet: true,
              keyPrefix: limit.dimension,
              points: limit.capacity,
              duration: limit.windowSeconds,
            }),
          ]),
        );
        return {
          async acquire(costs) {
            const answers = await Promise.all(
              Object.entries(costs).map(([dimension, cost]) => consume(limiters, dimension, cost)),
            );
            const refusals = answers.filter((answer) => answer !== undefined);
            if (refusals.length === 0) return { granted: true };
            return { granted: false, waitSeconds: Math.max(...refusals) / 1000 };
          },
        };
      },
    };
  },
};

/** `undefined` when granted, the refusal's `msBeforeNext` otherwise; store errors rethrown. */
async function consume(
  limiters: ReadonlyMap<Dimension, RateLimiterDynamo>,
  dimension: Dimension,
  cost: number,
): Promise<number | undefined> {
  const limiter = limiters.get(dimension);
  if (!limiter) throw new Error(`Unknown dimension "${dimension}": no limiter is defined for it.`);
  try {
    await limiter.consume(KEY, cost);
    return undefined;
  } catch (refusal) {
    if (refusal instanceof RateLimiterRes) return refusal.msBeforeNext;
    throw refusal;
  }
}
