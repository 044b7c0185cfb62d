import { emptyUsage, snapshotUsage, usageSince } from '../../local/aws/dynamodb-meter';
import type { Contestant, LimitSpec } from '../contestants/contestant';
import { type GrantWindow, round, worstIntervalExcess } from '../stats';

/**
 * The window-boundary burst: a fixed window admits a full window just before its end and
 * another just after, twice the limit within moments; a token bucket cannot. Script, on one
 * limit of 50 per second: one grant opens the window at t = 0, then 50 attempts at t = 0.9 s
 * and 50 more at t = 1.05 s, each wave all in flight at once from 50 callers (one attempt each,
 * as 50 Lambdas would).
 */
export interface BurstFigure {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly grantedFirstWave: number;
  readonly grantedSecondWave: number;
  /** From the first send of the first wave to the last answer of the second. */
  readonly wavesSpanMs: number;
  /** Refusals in the waves after at least one failed conditional write (conflicts, not an empty bucket). */
  readonly refusedAfterConflict: number;
  /** Worst excess over capacity + rate × Δ in any interval, from the grants' send/answer times. */
  readonly worstIntervalExcess: number;
}

const LIMIT: LimitSpec = { dimension: 'openai#rpm', limitType: 'requests', capacity: 50, windowSeconds: 1 };
const CALLERS = 50;

export async function measureBurst(
  contestant: Contestant,
  endpoint: string,
  tableName: string,
): Promise<BurstFigure> {
  const arena = await contestant.prepare(endpoint, tableName, [LIMIT]);
  const callers = Array.from({ length: CALLERS }, () => {
    const usage = emptyUsage();
    return { usage, client: arena.newClient(usage) };
  });
  const grants: GrantWindow[] = [];
  let refusedAfterConflict = 0;
  const now = () => performance.timeOrigin + performance.now();
  const take = async (caller: (typeof callers)[number]) => {
    const before = snapshotUsage(caller.usage);
    const sentMs = now();
    const granted = (await caller.client.acquire({ [LIMIT.dimension]: 1 })).granted;
    if (granted) grants.push({ sentMs, answeredMs: now(), units: 1 });
    else if (usageSince(before, caller.usage).failedWrites > 0) refusedAfterConflict += 1;
    return granted ? 1 : 0;
  };
  // The whole wave in flight at once: a burst, not a queue.
  const wave = async () => {
    const answers = await Promise.all(callers.map((caller) => take(caller)));
    return answers.reduce<number>((sum, granted) => sum + granted, 0);
  };
  const startMs = now();
  await take(callers[0]!);
  await sleepUntil(startMs + 900);
  const grantedFirstWave = await wave();
  await sleepUntil(startMs + 1050);
  const grantedSecondWave = await wave();
  const waves = grants.slice(1);
  const wavesSpanMs = Math.max(...waves.map((g) => g.answeredMs)) - Math.min(...waves.map((g) => g.sentMs));
  return {
    capacity: LIMIT.capacity,
    refillPerSecond: LIMIT.capacity / LIMIT.windowSeconds,
    grantedFirstWave,
    grantedSecondWave,
    wavesSpanMs: round(wavesSpanMs, 0),
    refusedAfterConflict,
    worstIntervalExcess: round(Math.max(0, worstIntervalExcess(grants, LIMIT.capacity, LIMIT.capacity)), 1),
  };
}

function sleepUntil(atMs: number): Promise<void> {
  const delay = atMs - (performance.timeOrigin + performance.now());
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)));
}
