import type { SuiteResult } from '../stages/suite';

/**
 * The suite's figures as `npm run bench -- --json` prints them and bench/results/suite.json
 * keeps them. Its own module, so the writers of RESULTS.md and docs/performance.md read the
 * shape without importing the CLI entry (bench/run.ts).
 */
export type BenchJson = ReturnType<typeof benchJson>;

/** The SDK's figures at the top level, every contestant's under `contestants`. */
export function benchJson(suite: SuiteResult, argv: readonly string[]) {
  const sdk = suite.contestants.sluiceAws;
  return {
    requestsPerGrant: sdk?.single?.requestsPerGrant ?? null,
    wcuPerGrant: sdk?.single?.wcuPerGrant ?? null,
    rcuPerGrant: sdk?.single?.rcuPerGrant ?? null,
    multiDimRequestsPerGrant: sdk?.multi?.requestsPerGrant ?? null,
    multiDimWcuPerGrant: sdk?.multi?.wcuPerGrant ?? null,
    contention: sdk?.contention ?? null,
    hotBucket: suite.hotBucket ?? null,
    latencyRatioP50: sdk?.latency?.ratioP50 ?? null,
    latency: sdk?.latency ?? null,
    contestants: suite.contestants,
    charts: suite.charts,
    machine: suite.machine,
    prices: suite.prices,
    command: `npm run bench --${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`,
    date: new Date().toISOString(),
  };
}
