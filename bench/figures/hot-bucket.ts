import { emptyUsage, type Usage } from '../../local/aws/dynamodb-meter';
import type { Contestant, LimitSpec } from '../contestants/contestant';
import { type GrantWindow, round } from '../stats';

/**
 * One hot bucket: 8 clients (each its own DynamoDB client and cache, as 8 Lambdas), each with
 * several acquires in flight, ask a bucket of 6,000 per second for as much as it gives for a
 * few seconds; a refused acquire waits the wait it was given. With leases (`lease` on the
 * definition) each client takes slices of 2 % of the capacity and grants from them locally.
 */
export interface HotBucketOptions {
  readonly seconds: number;
  readonly lease?: LimitSpec['lease'];
}

export interface HotBucketFigure {
  readonly clients: number;
  readonly inFlightPerClient: number;
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly lease: LimitSpec['lease'] | null;
  readonly seconds: number;
  readonly grants: number;
  readonly grantsPerSecond: number;
  /** Units admitted above capacity + rate × the run's length (0 when within). */
  readonly overAdmission: number;
  /** The worst excess over capacity + rate × Δ over intervals starting at sampled grants. */
  readonly worstIntervalExcess: number;
  readonly wcuPerGrant: number;
  readonly rcuPerGrant: number;
  readonly requestsPerGrant: number;
  readonly errors: number;
  readonly firstError?: string;
}

const CLIENTS = 8;
const IN_FLIGHT = 4;
const RATE = 6_000;

export async function measureHotBucket(
  contestant: Contestant,
  endpoint: string,
  tableName: string,
  options: HotBucketOptions,
): Promise<HotBucketFigure> {
  const limit: LimitSpec = {
    dimension: 'hot#rps',
    limitType: 'requests',
    capacity: RATE,
    windowSeconds: 1,
    ...(options.lease ? { lease: options.lease } : {}),
  };
  const arena = await contestant.prepare(endpoint, tableName, [limit]);
  const usages: Usage[] = [];
  const clients = Array.from({ length: CLIENTS }, () => {
    const usage = emptyUsage();
    usages.push(usage);
    return arena.newClient(usage);
  });
  const now = () => performance.timeOrigin + performance.now();
  const grants: GrantWindow[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const startMs = now();
  const endMs = startMs + options.seconds * 1000;
  const loop = async (client: (typeof clients)[number]) => {
    while (now() < endMs) {
      const sentMs = now();
      try {
        const attempt = await client.acquire({ [limit.dimension]: 1 });
        if (attempt.granted) grants.push({ sentMs, answeredMs: now(), units: 1 });
        else {
          const waitMs = Math.max(1, Math.ceil((attempt.waitSeconds ?? 0.001) * 1000));
          await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, endMs - now())));
        }
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(clients.flatMap((client) => Array.from({ length: IN_FLIGHT }, () => loop(client))));
  const lastAnswerMs = Math.max(endMs, ...grants.map((g) => g.answeredMs));
  await Promise.all(clients.map((client) => client.close?.()));
  const seconds = (lastAnswerMs - startMs) / 1000;
  const total = usages.reduce(
    (sum, u) => ({ requests: sum.requests + u.requests, wcu: sum.wcu + u.wcu, rcu: sum.rcu + u.rcu }),
    { requests: 0, wcu: 0, rcu: 0 },
  );
  const n = Math.max(1, grants.length);
  return {
    clients: CLIENTS,
    inFlightPerClient: IN_FLIGHT,
    capacity: limit.capacity,
    refillPerSecond: RATE,
    lease: options.lease ?? null,
    seconds: round(seconds, 2),
    grants: grants.length,
    grantsPerSecond: round(grants.length / seconds, 0),
    overAdmission: round(Math.max(0, grants.length - (limit.capacity + RATE * seconds)), 1),
    worstIntervalExcess: round(Math.max(0, sampledIntervalExcess(grants, limit.capacity, RATE)), 1),
    wcuPerGrant: round(total.wcu / n, 4),
    rcuPerGrant: round(total.rcu / n, 4),
    requestsPerGrant: round(total.requests / n, 4),
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

/**
 * `worstIntervalExcess` (stats.ts) over intervals that start at about 400 sampled grants, so
 * tens of thousands of grants stay cheap to check: linear per start.
 */
function sampledIntervalExcess(
  grants: readonly GrantWindow[],
  capacity: number,
  ratePerSecond: number,
): number {
  const sorted = [...grants].sort((a, b) => a.sentMs - b.sentMs);
  const step = Math.max(1, Math.floor(sorted.length / 400));
  let worst = 0;
  for (let i = 0; i < sorted.length; i += step) {
    const first = sorted[i]!;
    let units = 0;
    let lastAnswer = first.answeredMs;
    for (let j = i; j < sorted.length; j += 1) {
      units += sorted[j]!.units;
      lastAnswer = Math.max(lastAnswer, sorted[j]!.answeredMs);
      worst = Math.max(worst, units - (capacity + (ratePerSecond * (lastAnswer - first.sentMs)) / 1000));
    }
  }
  return worst;
}
