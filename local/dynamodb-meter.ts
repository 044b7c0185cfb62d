import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { attachMeter, emptyUsage, snapshotUsage } from '../bench/meter';

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
 * Counts the requests a DynamoDB client sends and the capacity they consume, with the
 * benchmark's meter (bench/meter.ts), so `npm start -- --report` and `npm run bench` count
 * the same way: an SDK middleware that asks every data-plane call for
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
