import { emptyUsage } from '../../local/aws/dynamodb-meter';
import type { Contestant, LimitSpec } from '../contestants/contestant';

/**
 * Units charged for rejected attempts, with two limits (rpm + tpm). The windows are an hour
 * long, so refill is negligible during the few calls made:
 * - phase A: 4 attempts of rpm 1 + tpm 300 against tpm 1,000: the 4th must be refused by tpm;
 * - phase B: 20 attempts of rpm 1 + tpm 1: only rpm can refuse now.
 * An all-or-nothing limiter grants 3 + 7 = 10 rpm units. Every rpm unit short of 10 was
 * charged to a refused attempt and is lost for the window.
 */
export interface ChargedFigure {
  readonly phaseA: readonly boolean[];
  readonly phaseBGranted: number;
  readonly rpmCapacity: number;
  readonly rpmGranted: number;
  readonly rpmUnitsChargedForRejected: number;
  readonly atomic: boolean;
  /** The contestant's own record of each limit afterwards, where it exposes one. */
  readonly stored?: Readonly<Record<string, unknown>>;
}

const RPM_CAPACITY = 10;
const LIMITS: readonly LimitSpec[] = [
  { dimension: 'openai#rpm', limitType: 'requests', capacity: RPM_CAPACITY, windowSeconds: 3600 },
  { dimension: 'openai#tpm', limitType: 'tokens', capacity: 1000, windowSeconds: 3600 },
];

export async function measureCharged(
  contestant: Contestant,
  endpoint: string,
  tableName: string,
): Promise<ChargedFigure> {
  const arena = await contestant.prepare(endpoint, tableName, LIMITS);
  const client = arena.newClient(emptyUsage());
  const phaseA: boolean[] = [];
  for (let i = 0; i < 4; i += 1) {
    phaseA.push((await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 300 })).granted);
  }
  let phaseBGranted = 0;
  for (let i = 0; i < 20; i += 1) {
    if ((await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 1 })).granted) phaseBGranted += 1;
  }
  const rpmGranted = phaseA.filter(Boolean).length + phaseBGranted;
  const stored = arena.storedState ? await arena.storedState() : undefined;
  return {
    ...(stored ? { stored } : {}),
    phaseA,
    phaseBGranted,
    rpmCapacity: RPM_CAPACITY,
    rpmGranted,
    rpmUnitsChargedForRejected: RPM_CAPACITY - rpmGranted,
    atomic: rpmGranted === RPM_CAPACITY,
  };
}
