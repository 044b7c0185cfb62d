import { emptyUsage, snapshotUsage, usageSince } from '../../local/aws/dynamodb-meter';
import type { Contestant, LimitSpec } from '../contestants/contestant';
import { type GrantWindow, replayTokens, round, unitsPerSecond, worstIntervalExcess } from '../stats';

/** Figure 2: accuracy of one shared limit under 8 callers demanding 3× its rate. */
export interface ContentionOptions {
  readonly clients: number;
  readonly seconds: number;
  /** Refill rate in units per second; the capacity is one second's worth. */
  readonly ratePerSecond: number;
  readonly demandFactor: number;
}

export interface ContentionFigure {
  readonly clients: number;
  readonly seconds: number;
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly demandPerSecond: number;
  readonly achievedDemandPerSecond: number;
  readonly attempts: number;
  readonly admittedUnits: number;
  /** capacity + refill_rate × seconds. */
  readonly allowedUnits: number;
  /** Units admitted above `allowedUnits` over the whole run (0 when within). */
  readonly overAdmission: number;
  /** The worst excess over capacity + rate × Δ in any interval Δ between grants (0 when within). */
  readonly worstIntervalExcess: number;
  readonly utilization: number;
  readonly rejectedAttempts: number;
  /** Requests and WCU spent on attempts that were refused: what refusals cost the table. */
  readonly requestsOnRejected: number;
  readonly wcuOnRejected: number;
  /** Refusals after at least one failed conditional write: lost to write conflicts, not to an empty bucket. */
  readonly refusedAfterConflict: number;
  readonly requestsPerAttempt: number;
  readonly errors: number;
  readonly firstError?: string;
}

export interface ContentionRun {
  readonly figure: ContentionFigure;
  readonly tokens: Array<{ atSeconds: number; tokens: number }>;
  readonly admittedPerSecond: number[];
}

const DIMENSION = 'openai#rpm';

export async function measureContention(
  contestant: Contestant,
  endpoint: string,
  tableName: string,
  options: ContentionOptions,
): Promise<ContentionRun> {
  const limit: LimitSpec = {
    dimension: DIMENSION,
    limitType: 'requests',
    capacity: options.ratePerSecond,
    windowSeconds: 1,
  };
  const arena = await contestant.prepare(endpoint, tableName, [limit]);
  const demandPerSecond = options.ratePerSecond * options.demandFactor;
  // Each caller attempts on its own fixed schedule, the callers staggered evenly.
  const intervalMs = (1000 * options.clients) / demandPerSecond;
  const grants: GrantWindow[] = [];
  const tally = {
    attempts: 0,
    rejected: 0,
    requestsOnRejected: 0,
    wcuOnRejected: 0,
    requests: 0,
    errors: 0,
    afterConflict: 0,
  };
  let firstError: string | undefined;
  const startMs = performance.timeOrigin + performance.now();
  const endMs = startMs + options.seconds * 1000;
  const caller = async (index: number) => {
    const usage = emptyUsage();
    const client = arena.newClient(usage);
    const offsetMs = startMs + (index * intervalMs) / options.clients;
    for (let k = 0; ; k += 1) {
      const nowMs = performance.timeOrigin + performance.now();
      // A slot missed while an attempt was in flight is skipped, not made up in a burst:
      // the demand a slow server lets through is reported as `achievedDemandPerSecond`.
      k = Math.max(k, Math.ceil((nowMs - offsetMs) / intervalMs));
      const dueMs = offsetMs + k * intervalMs;
      if (dueMs >= endMs) break;
      if (dueMs > nowMs) await new Promise((resolve) => setTimeout(resolve, dueMs - nowMs));
      const before = snapshotUsage(usage);
      const sentMs = performance.timeOrigin + performance.now();
      tally.attempts += 1;
      try {
        const attempt = await client.acquire({ [DIMENSION]: 1 });
        const answeredMs = performance.timeOrigin + performance.now();
        const spent = usageSince(before, usage);
        tally.requests += spent.requests;
        if (attempt.granted) {
          grants.push({ sentMs, answeredMs, units: 1 });
        } else {
          tally.rejected += 1;
          tally.requestsOnRejected += spent.requests;
          tally.wcuOnRejected += spent.wcu;
          if (spent.failedWrites > 0) tally.afterConflict += 1;
        }
      } catch (error) {
        tally.errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, index) => caller(index)));
  const lastAnswerMs = Math.max(endMs, ...grants.map((grant) => grant.answeredMs));
  const seconds = (lastAnswerMs - startMs) / 1000;
  const admittedUnits = grants.reduce((sum, grant) => sum + grant.units, 0);
  const allowedUnits = limit.capacity + options.ratePerSecond * seconds;
  return {
    figure: {
      clients: options.clients,
      seconds: round(seconds, 2),
      capacity: limit.capacity,
      refillPerSecond: options.ratePerSecond,
      demandPerSecond,
      achievedDemandPerSecond: round(tally.attempts / options.seconds, 1),
      attempts: tally.attempts,
      admittedUnits,
      allowedUnits: round(allowedUnits, 1),
      overAdmission: round(Math.max(0, admittedUnits - allowedUnits), 1),
      worstIntervalExcess: round(
        Math.max(0, worstIntervalExcess(grants, limit.capacity, options.ratePerSecond)),
        1,
      ),
      utilization: round(admittedUnits / allowedUnits, 4),
      rejectedAttempts: tally.rejected,
      requestsOnRejected: tally.requestsOnRejected,
      wcuOnRejected: round(tally.wcuOnRejected, 1),
      refusedAfterConflict: tally.afterConflict,
      requestsPerAttempt: round(tally.requests / Math.max(1, tally.attempts), 3),
      errors: tally.errors,
      ...(firstError !== undefined ? { firstError } : {}),
    },
    tokens: replayTokens(grants, limit.capacity, options.ratePerSecond, startMs),
    admittedPerSecond: unitsPerSecond(grants, startMs, options.seconds),
  };
}
