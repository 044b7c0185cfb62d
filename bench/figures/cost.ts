import type { Dimension } from '../../lambda/sluice';
import { emptyUsage, snapshotUsage, usageSince } from '../../local/aws/dynamodb-meter';
import type { Contestant, LimitSpec } from '../contestants/contestant';
import { round } from '../stats';

/** Figure 1: DynamoDB requests, RCU and WCU per warm grant, one caller, no contention. */
export interface CostFigure {
  readonly grants: number;
  readonly attempts: number;
  readonly requestsPerGrant: number;
  readonly rcuPerGrant: number;
  readonly wcuPerGrant: number;
  readonly byOperation: Readonly<Record<string, number>>;
}

/** Limits far above the demand, so every attempt is granted and only the cost shows. */
export const SINGLE_LIMITS: readonly LimitSpec[] = [
  { dimension: 'openai#rpm', limitType: 'requests', capacity: 1_000_000, windowSeconds: 60 },
];
export const MULTI_LIMITS: readonly LimitSpec[] = [
  ...SINGLE_LIMITS,
  { dimension: 'openai#tpm', limitType: 'tokens', capacity: 100_000_000, windowSeconds: 60 },
];
export const SINGLE_COSTS: Readonly<Record<Dimension, number>> = { 'openai#rpm': 1 };
export const MULTI_COSTS: Readonly<Record<Dimension, number>> = { 'openai#rpm': 1, 'openai#tpm': 500 };

const WARM_UP = 3;

export async function measureCost(
  contestant: Contestant,
  endpoint: string,
  tableName: string,
  multi: boolean,
  grants: number,
): Promise<CostFigure> {
  const arena = await contestant.prepare(endpoint, tableName, multi ? MULTI_LIMITS : SINGLE_LIMITS);
  const usage = emptyUsage();
  const client = arena.newClient(usage);
  const costs = multi ? MULTI_COSTS : SINGLE_COSTS;
  // Warm: the first acquire of a caller may read state it then keeps.
  for (let i = 0; i < WARM_UP; i += 1) await client.acquire(costs);
  const before = snapshotUsage(usage);
  let granted = 0;
  for (let i = 0; i < grants; i += 1) {
    if ((await client.acquire(costs)).granted) granted += 1;
  }
  const spent = usageSince(before, usage);
  const per = (value: number) => (granted === 0 ? Number.NaN : round(value / granted, 4));
  return {
    grants: granted,
    attempts: grants,
    requestsPerGrant: per(spent.requests),
    rcuPerGrant: per(spent.rcu),
    wcuPerGrant: per(spent.wcu),
    byOperation: spent.byOperation,
  };
}
