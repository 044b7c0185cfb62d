import type { Contestant, LimitSpec } from '../contestants/contestant';
import { emptyUsage } from '../meter';
import { type GrantWindow, round, worstIntervalExcess } from '../stats';

/**
 * The window-boundary burst: a fixed window admits a full window just before its end and
 * another just after, twice the limit within moments; a token bucket cannot. Script, on one
 * limit of 50 per second: one grant opens the window at t = 0, then 50 attempts at t = 0.9 s
 * and 50 more at t = 1.05 s, each wave all in flight at once from 10 callers.
 */
export interface BurstFigure {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly grantedFirstWave: number;
  readonly grantedSecondWave: number;
  /** From the first send of the first wave to the last answer of the second. */
  readonly wavesSpanMs: number;
  /** Worst excess over capacity + rate × Δ in any interval, from the grants' send/answer times. */
  readonly worstIntervalExcess: number;
}

const LIMIT: LimitSpec = { dimension: 'openai#rpm', limitType: 'requests', capacity: 50, windowSeconds: 1 };
const CALLERS = 10;

export async function measureBurst(
  contestant: Contestant,
  endpoint: string,
  tableName: string,
): Promise<BurstFigure> {
  const arena = await contestant.prepare(endpoint, tableName, [LIMIT]);
  const clients = Array.from({ length: CALLERS }, () => arena.newClient(emptyUsage()));
  const grants: GrantWindow[] = [];
  const now = () => performance.timeOrigin + performance.now();
  const take = async (client: (typeof clients)[number]) => {
    const sentMs = now();
    const granted = (await client.acquire({ [LIMIT.dimension]: 1 })).granted;
    if (granted) grants.push({ sentMs, answeredMs: now(), units: 1 });
    return granted ? 1 : 0;
  };
  // The whole wave in flight at once: a burst, not a queue.
  const wave = async () => {
    const perCaller = LIMIT.capacity / CALLERS;
    const answers = await Promise.all(
      clients.flatMap((client) => Array.from({ length: perCaller }, () => take(client))),
    );
    return answers.reduce<number>((sum, granted) => sum + granted, 0);
  };
  const startMs = now();
  await take(clients[0]!);
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
    worstIntervalExcess: round(Math.max(0, worstIntervalExcess(grants, LIMIT.capacity, LIMIT.capacity)), 1),
  };
}

function sleepUntil(atMs: number): Promise<void> {
  const delay = atMs - (performance.timeOrigin + performance.now());
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)));
}
