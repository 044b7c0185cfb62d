import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly json: boolean;
  readonly quick: boolean;
  /** Length of the contention run (figure 2). */
  readonly seconds: number;
  /** Sequential grants per cost measurement (figure 1). */
  readonly grants: number;
  /** Interleaved rounds of the latency measurement (figure 3). */
  readonly latencyRounds: number;
  /** Write bench/results/*.json, the SVG charts and bench/RESULTS.md. */
  readonly write: boolean;
  /** Run the drain and misconfiguration stage (figures 4 and 5) through the local stack. */
  readonly drain: boolean;
  /** Messages per drain run (figure 4). */
  readonly count: number;
  /** The vendor's true limit L in calls per second for the drain stage. */
  readonly limit: number;
  /** Run the pool stage only (slow vendors, pool against sequential), without figures 4 and 5. */
  readonly pool: boolean;
  /** Pool scenarios to run (by name); all when absent. */
  readonly only?: readonly string[];
  /** Only regenerate RESULTS.md, the charts and docs/performance.md from the saved runs. */
  readonly render: boolean;
  /** Run only the fixed-window stage (also part of --drain): 3 per 1 s window, plain and with 10 % 5xx. */
  readonly fixedWindow: boolean;
}

/** Below what the local stack's single worker can call (it must not be the bottleneck). */
export const DEFAULT_TRUE_LIMIT = 5;

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]

  --json         print one JSON object (progress goes to stderr)
  --seconds N    length of the contention run in seconds (default 30)
  --quick        a short smoke run (contention 5 s, fewer samples)
  --write        write bench/results/*.json, the SVG charts and bench/RESULTS.md
  --drain        run figures 4 and 5 (drain and misconfiguration) through the local stack
  --count N      messages per drain run (default 1000)
  --pool         run only the pool stage: slow vendors (300 ms, 1.5 s, 5 s, one call at a time),
                 the worker's pool against the sequential worker (also part of --drain)
  --only A,B     pool scenarios to run (booking-300ms, openai-1500ms, openai-5s, capacity-1-300ms)
  --fixed-window run only the fixed-window stage: a vendor allowing 3 per 1 s window, 300 messages,
                 then again with 10 % 5xx answers (also part of --drain)
  --render       only regenerate RESULTS.md, the charts and docs/performance.md from bench/results/
  --limit L      the vendor's true limit in calls per second for the drain stage (default 5)
`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        json: { type: 'boolean' },
        quick: { type: 'boolean' },
        seconds: { type: 'string' },
        write: { type: 'boolean' },
        drain: { type: 'boolean' },
        count: { type: 'string' },
        limit: { type: 'string' },
        render: { type: 'boolean' },
        'fixed-window': { type: 'boolean' },
        pool: { type: 'boolean' },
        only: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new BenchUsageError(`${(error as Error).message}\n${BENCH_USAGE}`);
  }
  if (values.help) throw new BenchUsageError(BENCH_USAGE);
  const quick = values.quick === true;
  const problems: string[] = [];
  const seconds = wholeNumber(values.seconds, quick ? 5 : 30, '--seconds', problems);
  const count = wholeNumber(values.count, quick ? 200 : 1000, '--count', problems);
  const limit = wholeNumber(values.limit, DEFAULT_TRUE_LIMIT, '--limit', problems);
  if (problems.length > 0)
    throw new BenchUsageError(`Invalid options: ${problems.join('; ')}\n${BENCH_USAGE}`);
  return {
    json: values.json === true,
    quick,
    seconds,
    grants: quick ? 100 : 500,
    latencyRounds: quick ? 200 : 1500,
    write: values.write === true,
    drain: values.drain === true,
    count,
    limit,
    render: values.render === true,
    fixedWindow: values['fixed-window'] === true,
    pool: values.pool === true,
    ...(typeof values.only === 'string' ? { only: values.only.split(',').map((name) => name.trim()) } : {}),
  };
}

function wholeNumber(raw: unknown, fallback: number, name: string, problems: string[]): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    problems.push(`${name} must be a whole number of at least 1 (got "${String(raw)}")`);
  }
  return value;
}
