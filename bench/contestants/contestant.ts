import type { Dimension, LimitType } from '../../lambda/sluice';
import type { Usage } from '../../local/aws/dynamodb-meter';

/** The three limiters measured side by side, keyed as they appear in the JSON. */
export type ContestantName = 'sluiceAws' | 'documentedSluice' | 'rateLimiterFlexible';

export const CONTESTANT_LABELS: Readonly<Record<ContestantName, string>> = {
  sluiceAws: 'Sluice for AWS (this SDK)',
  documentedSluice: 'documented Sluice (baseline)',
  rateLimiterFlexible: 'rate-limiter-flexible RateLimiterDynamo',
};

/** One limit as every contestant understands it: `capacity` units per `windowSeconds`. */
export interface LimitSpec {
  readonly dimension: Dimension;
  readonly limitType: LimitType;
  readonly capacity: number;
  readonly windowSeconds: number;
  /** Leases for a hot bucket (this SDK only; the other contestants have no such mode and ignore it). */
  readonly lease?: { readonly maxShare: number; readonly seconds: number };
}

export interface Attempt {
  readonly granted: boolean;
  /** The wait the limiter answered with when it refused, if it computes one. */
  readonly waitSeconds?: number;
}

/** Both Sluice algorithms answer `Granted` or `RetryIn` with a computed wait. */
export function attemptOf(
  result: { readonly outcome: 'Granted' } | { readonly outcome: 'RetryIn'; readonly waitSeconds: number },
): Attempt {
  return result.outcome === 'Granted'
    ? { granted: true }
    : { granted: false, waitSeconds: result.waitSeconds };
}

/** A caller: its own DynamoDB client (metered) and its own cache, as a separate Lambda would have. */
export interface ContestantClient {
  acquire(costs: Readonly<Record<Dimension, number>>): Promise<Attempt>;
  /** Gives back what the client holds locally (this SDK's slices), at the end of a run. */
  close?(): Promise<void>;
}

/** A contestant on a fresh table of its own, its limits defined. */
export interface Arena {
  newClient(usage: Usage): ContestantClient;
  /** What the store holds per dimension, in the contestant's own terms (evidence for the report). */
  storedState?(): Promise<Record<Dimension, unknown>>;
}

export interface Contestant {
  readonly name: ContestantName;
  /** Creates a table named `tableName` on `endpoint` and defines `limits` in it. */
  prepare(endpoint: string, tableName: string, limits: readonly LimitSpec[]): Promise<Arena>;
}
