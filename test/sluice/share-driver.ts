import type { SluiceClient } from '../../lambda/sluice/client';
import type { AcquireRequest } from '../../lambda/sluice/core/types';
import type { SimulatedClock } from './helpers';

/**
 * Drives products that each keep asking for capacity on one client, on a simulated clock: each
 * product acquires as soon as it may (right after a grant, or when its RetryIn wait is over),
 * from `from` to `until` (ms after the start), as a worker with a backlog does. Records every
 * grant, so tests can count who got what in any interval.
 */
export interface DemandSpec {
  readonly product: string | undefined;
  /** When it starts asking, ms after the start. @default 0 */
  readonly from?: number;
  /** When it stops asking. @default the end of the run */
  readonly until?: number;
  /** Ms between a grant and its next acquire (a vendor call's length). @default 1 */
  readonly gapMs?: number;
  /** Asks again this soon after a RetryIn, whatever its wait (a greedy caller). @default the wait */
  readonly retryMs?: number;
}

export interface GrantRecord {
  readonly product: string | undefined;
  readonly atMs: number;
}

export async function driveDemand(
  client: SluiceClient,
  clock: SimulatedClock,
  request: AcquireRequest,
  demands: readonly DemandSpec[],
  durationMs: number,
): Promise<GrantRecord[]> {
  const start = clock.nowMs;
  const next = demands.map((d) => start + (d.from ?? 0));
  const grants: GrantRecord[] = [];
  for (;;) {
    let pick = -1;
    for (let i = 0; i < demands.length; i++) {
      const until = start + (demands[i]!.until ?? durationMs);
      if (next[i]! >= until) continue;
      if (pick === -1 || next[i]! < next[pick]!) pick = i;
    }
    if (pick === -1 || next[pick]! >= start + durationMs) return grants;
    const demand = demands[pick]!;
    if (next[pick]! > clock.nowMs) clock.nowMs = next[pick]!;
    const answer = await client.acquire(
      request,
      demand.product === undefined ? {} : { product: demand.product },
    );
    if (answer.outcome === 'Granted') {
      grants.push({ product: demand.product, atMs: clock.nowMs - start });
      next[pick] = clock.nowMs + (demand.gapMs ?? 1);
    } else {
      next[pick] = clock.nowMs + (demand.retryMs ?? Math.max(1, Math.ceil(answer.waitSeconds * 1000)));
    }
  }
}

/** Grants of `product` in [fromMs, toMs). */
export function grantsOf(
  grants: readonly GrantRecord[],
  product: string | undefined,
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
): number {
  return grants.filter((g) => g.product === product && g.atMs >= fromMs && g.atMs < toMs).length;
}

/** The largest number of grants in any interval [t, t + spanMs) that starts at a grant. */
export function mostGrantsWithin(grants: readonly GrantRecord[], spanMs: number): number {
  const times = grants.map((g) => g.atMs).sort((a, b) => a - b);
  let most = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[j]! < times[i]! - spanMs + 1) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
