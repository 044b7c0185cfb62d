import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_PARTITION_KEY } from '../../lambda/contract';
import { attachMeter, emptyUsage } from '../../local/aws/dynamodb-meter';
import { createBaselineTable } from '../baseline/documented-sluice';
import type { Contestant, ContestantClient, ContestantName } from '../contestants/contestant';
import { benchClientConfig } from '../contestants/dynamodb-config';
import { percentile, round } from '../stats';
import { SINGLE_COSTS, SINGLE_LIMITS } from './cost';

/** Figure 3: p50/p99 of a granted acquire, and their ratio to a plain UpdateItem. */
export interface LatencyFigure {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly plainUpdateP50Ms: number;
  readonly plainUpdateP99Ms: number;
  readonly ratioP50: number;
  readonly ratioP99: number;
}

/**
 * Every contestant and the plain UpdateItem take turns, in a rotating order, in one loop on one
 * server: a slow moment of the machine lands on all of them alike, so the ratios hold.
 */
export async function measureLatency(
  contestants: readonly Contestant[],
  endpoint: string,
  tableName: (name: string) => string,
  rounds: number,
): Promise<{ byContestant: Partial<Record<ContestantName, LatencyFigure>>; errors: string[] }> {
  const errors: string[] = [];
  const callers: Array<{ name: ContestantName; client: ContestantClient; samples: number[] }> = [];
  for (const contestant of contestants) {
    try {
      const arena = await contestant.prepare(endpoint, tableName(contestant.name), SINGLE_LIMITS);
      const client = arena.newClient(emptyUsage());
      for (let i = 0; i < 3; i += 1) await client.acquire(SINGLE_COSTS);
      callers.push({ name: contestant.name, client, samples: [] });
    } catch (error) {
      errors.push(`${contestant.name}: ${(error as Error).message}`);
    }
  }
  const plain = await plainUpdater(endpoint, tableName('plain'));
  const plainSamples: number[] = [];
  const steps = [...callers.map((caller) => caller), undefined];
  for (let round = 0; round < rounds; round += 1) {
    for (let k = 0; k < steps.length; k += 1) {
      const caller = steps[(round + k) % steps.length];
      const started = performance.now();
      if (caller) {
        const granted = (await caller.client.acquire(SINGLE_COSTS)).granted;
        if (granted) caller.samples.push(performance.now() - started);
      } else {
        await plain(round);
        plainSamples.push(performance.now() - started);
      }
    }
  }
  const plainP50 = percentile(plainSamples, 50);
  const plainP99 = percentile(plainSamples, 99);
  const byContestant: Partial<Record<ContestantName, LatencyFigure>> = {};
  for (const caller of callers) {
    const p50 = percentile(caller.samples, 50);
    const p99 = percentile(caller.samples, 99);
    byContestant[caller.name] = {
      samples: caller.samples.length,
      p50Ms: round(p50, 3),
      p99Ms: round(p99, 3),
      plainUpdateP50Ms: round(plainP50, 3),
      plainUpdateP99Ms: round(plainP99, 3),
      ratioP50: round(p50 / plainP50, 3),
      ratioP99: round(p99 / plainP99, 3),
    };
  }
  return { byContestant, errors };
}

/** An unconditional UpdateItem on one item: the cheapest write a limiter could make. */
async function plainUpdater(endpoint: string, tableName: string): Promise<(n: number) => Promise<void>> {
  const dynamodb = new DynamoDBClient(benchClientConfig(endpoint));
  await createBaselineTable(dynamodb, tableName);
  // Metered like the contestants' clients, so the same middleware runs on both sides.
  attachMeter(dynamodb, emptyUsage());
  const doc = DynamoDBDocumentClient.from(dynamodb);
  return async (n) => {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { [TABLE_PARTITION_KEY]: 'plain' },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': n },
      }),
    );
  };
}

/**
 * Plain writes from 8 callers at once until the JVM has warmed up; returns the writes per
 * second of the last half: the ceiling this server sets on any contestant's request rate.
 */
export async function warmUp(endpoint: string, tableName: string, writes = 4000): Promise<number> {
  const update = await plainUpdater(endpoint, tableName);
  const callers = 8;
  let done = 0;
  let halfAtMs = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = caller; i < writes; i += callers) {
        await update(i);
        done += 1;
        if (done === writes / 2) halfAtMs = performance.now();
      }
    }),
  );
  return round((writes / 2 / (performance.now() - halfAtMs)) * 1000, 0);
}
