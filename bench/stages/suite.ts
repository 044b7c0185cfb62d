import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { CONTESTANT_LABELS, type Contestant, type ContestantName } from '../contestants/contestant';
import { documentedSluice } from '../contestants/documented-sluice';
import { rateLimiterFlexible } from '../contestants/rate-limiter-flexible';
import { sluiceAws } from '../contestants/sluice-aws';
import { type BurstFigure, measureBurst } from '../figures/burst';
import { type ChargedFigure, measureCharged } from '../figures/charged';
import { type ContentionFigure, type ContentionRun, measureContention } from '../figures/contention';
import { type CostFigure, measureCost } from '../figures/cost';
import { type HotBucketFigure, measureHotBucket } from '../figures/hot-bucket';
import { type LatencyFigure, measureLatency, warmUp } from '../figures/latency';
import type { BenchOptions } from '../options';
import { round } from '../stats';

/**
 * DynamoDB on-demand prices, standard table class, us-east-1, as published on
 * aws.amazon.com/dynamodb/pricing/on-demand/ since the 1 Nov 2024 reduction. Taken from that
 * published list, not fetched by the bench: check the page before quoting a cost.
 */
export const PRICES = {
  region: 'us-east-1',
  source: 'published on-demand price since 2024-11-01; not fetched by the bench',
  usdPerMillionWriteRequestUnits: 0.625,
  usdPerMillionReadRequestUnits: 0.125,
} as const;

export interface ContestantResult {
  readonly label: string;
  readonly single?: CostFigure;
  readonly multi?: CostFigure;
  readonly contention?: ContentionFigure;
  readonly latency?: LatencyFigure;
  readonly charged?: ChargedFigure;
  readonly burst?: BurstFigure;
  /** The hot-bucket figure without leases (every contestant's ordinary path). */
  readonly hotBucket?: HotBucketFigure;
  /** USD per million messages, from the counted units (one grant per message). */
  readonly costPerMillion?: { readonly single: number; readonly multi?: number };
  readonly errors: string[];
}

export interface SuiteResult {
  readonly contestants: Partial<Record<ContestantName, ContestantResult>>;
  /** This SDK on the hot bucket with leases (`lease` on the definition), beside `contestants.*.hotBucket`. */
  readonly hotBucket?: HotBucketFigure;
  readonly charts: Partial<Record<ContestantName, Pick<ContentionRun, 'tokens' | 'admittedPerSecond'>>>;
  readonly machine: {
    nproc: number;
    cpu: string;
    node: string;
    java: string;
    /** Plain UpdateItems per second DynamoDB Local took from 8 callers during the warm-up. */
    serverWritesPerSecond: number;
  };
  readonly prices: typeof PRICES;
}

export const CONTESTANTS: readonly Contestant[] = [sluiceAws, documentedSluice, rateLimiterFlexible];

type Progress = (line: string) => void;

export async function runSuite(
  endpoint: string,
  options: BenchOptions,
  progress: Progress,
): Promise<SuiteResult> {
  const results: Partial<Record<ContestantName, ContestantResult & { errors: string[] }>> = {};
  const charts: SuiteResult['charts'] = {};
  let tableNumber = 0;
  const table = (name: string) => {
    tableNumber += 1;
    return `bench-${name}-${tableNumber}`;
  };
  // The JVM compiles DynamoDB Local's hot paths during the first thousands of requests;
  // without this the first contestant would pay for it.
  progress('warming DynamoDB Local up');
  const serverWritesPerSecond = await warmUp(endpoint, table('warm-up'));
  progress(`DynamoDB Local takes ${serverWritesPerSecond} plain UpdateItems/s from 8 callers`);
  for (const contestant of CONTESTANTS) {
    const result: ContestantResult & { errors: string[] } = {
      label: CONTESTANT_LABELS[contestant.name],
      errors: [],
    };
    results[contestant.name] = result;
    const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
      progress(`${contestant.name}: ${what}`);
      try {
        return await run();
      } catch (error) {
        result.errors.push(`${what}: ${(error as Error).message}`);
        progress(`${contestant.name}: ${what} FAILED: ${(error as Error).message}`);
        return undefined;
      }
    };
    const single = await attempt('cost per grant, one dimension', () =>
      measureCost(contestant, endpoint, table(contestant.name), false, options.grants),
    );
    const multi = await attempt('cost per grant, rpm + tpm', () =>
      measureCost(contestant, endpoint, table(contestant.name), true, options.grants),
    );
    const charged = await attempt('units charged for rejected attempts', () =>
      measureCharged(contestant, endpoint, table(contestant.name)),
    );
    const burst = await attempt('burst at a window boundary', () =>
      measureBurst(contestant, endpoint, table(contestant.name)),
    );
    const contention = await attempt(`contention, 8 clients, ${options.seconds} s`, () =>
      measureContention(contestant, endpoint, table(contestant.name), {
        clients: 8,
        seconds: options.seconds,
        ratePerSecond: 50,
        demandFactor: 3,
      }),
    );
    const hotBucket = await attempt(`hot bucket, 8 clients, ${hotSeconds(options)} s`, () =>
      measureHotBucket(contestant, endpoint, table(contestant.name), { seconds: hotSeconds(options) }),
    );
    Object.assign(result, {
      ...(hotBucket ? { hotBucket } : {}),
      ...(single ? { single } : {}),
      ...(multi ? { multi } : {}),
      ...(charged ? { charged } : {}),
      ...(burst ? { burst } : {}),
      ...(contention ? { contention: contention.figure } : {}),
    });
    if (single) {
      Object.assign(result, {
        costPerMillion: { single: dollars(single), ...(multi ? { multi: dollars(multi) } : {}) },
      });
    }
    if (contention)
      charts[contestant.name] = {
        tokens: contention.tokens,
        admittedPerSecond: contention.admittedPerSecond,
      };
  }
  progress(`sluiceAws: hot bucket with leases (${JSON.stringify(HOT_LEASE)}), ${hotSeconds(options)} s`);
  let hotBucket: HotBucketFigure | undefined;
  try {
    hotBucket = await measureHotBucket(sluiceAws, endpoint, table('sluiceAws-leased'), {
      seconds: hotSeconds(options),
      lease: HOT_LEASE,
    });
  } catch (error) {
    results.sluiceAws?.errors.push(`hot bucket with leases: ${(error as Error).message}`);
  }
  progress(`latency: ${options.latencyRounds} interleaved rounds`);
  const latency = await measureLatency(CONTESTANTS, endpoint, table, options.latencyRounds);
  for (const contestant of CONTESTANTS) {
    const figure = latency.byContestant[contestant.name];
    const result = results[contestant.name];
    if (figure && result) Object.assign(result, { latency: figure });
  }
  for (const error of latency.errors) {
    const name = error.split(':')[0] as ContestantName;
    results[name]?.errors.push(`latency: ${error}`);
  }
  return {
    contestants: results,
    ...(hotBucket ? { hotBucket } : {}),
    charts,
    machine: { ...machine(), serverWritesPerSecond },
    prices: PRICES,
  };
}

/** Slices of a tenth of the bucket, valid 2 s: 8 clients hold at most 80 % of it at once. */
export const HOT_LEASE = { maxShare: 0.1, seconds: 2 } as const;

const hotSeconds = (options: BenchOptions) => (options.quick ? 3 : 5);

/** USD per million grants at a figure's units per grant. */
export function dollarsPerMillion(figure: { wcuPerGrant: number; rcuPerGrant: number }): number {
  return round(
    figure.wcuPerGrant * PRICES.usdPerMillionWriteRequestUnits +
      figure.rcuPerGrant * PRICES.usdPerMillionReadRequestUnits,
    4,
  );
}

function dollars(figure: CostFigure): number {
  return round(
    figure.wcuPerGrant * PRICES.usdPerMillionWriteRequestUnits +
      figure.rcuPerGrant * PRICES.usdPerMillionReadRequestUnits,
    4,
  );
}

function machine(): Omit<SuiteResult['machine'], 'serverWritesPerSecond'> {
  // `java -version` prints to stderr; `nproc` counts the CPUs this process may use.
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' });
  return {
    nproc: Number(nproc.stdout.trim()) || cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    java: (java.stderr ?? '').split('\n')[0]?.trim() || 'not found',
  };
}
