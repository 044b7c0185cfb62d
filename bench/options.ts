import { parseArgs } from 'node:util';
import { CliUsageError } from '../local/cli/usage';

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
  /** Only print the saved runs of bench/results/ (one JSON object with --json); run nothing. */
  readonly saved: boolean;
  /** Only regenerate RESULTS.md, the charts and docs/performance.md from the saved runs. */
  readonly render: boolean;
  /** Run only the fixed-window stage (also part of --drain): 3 per 1 s window, plain and with 10 % 5xx. */
  readonly fixedWindow: boolean;
  /** Run the vendor zoo (bench/stages/vendors.ts): real limiter libraries, default pool and batch. */
  readonly vendors: boolean;
  /** The zoo's buckets in the `vendorLimit` form (the vendor's own words; the default), not capacity/window. */
  readonly vendorLimit: boolean;
  /** Run only the fair-shares stage (simulated clock, the SDK's plan): shares at admission. */
  readonly shares: boolean;
  /** Run the vendor outage stage (the circuit) through the local stack. */
  readonly outage?: {
    readonly messages: number;
    readonly outageSeconds: number;
    readonly timeScale: number;
    readonly runs: readonly ('down' | 'key-revoked')[];
  };
}

/** Below what the local stack's single worker can call (it must not be the bottleneck). */
export const DEFAULT_TRUE_LIMIT = 5;

export const BENCH_USAGE = `Usage: npm run bench -- [options]

  --json         print one JSON object (progress goes to stderr)
  --seconds N    length of the contention run in seconds (default 30)
  --quick        a short smoke run (contention 5 s, fewer samples)
  --write        write bench/results/*.json, the SVG charts and bench/RESULTS.md
  --drain        run figures 4 and 5 (drain and misconfiguration) through the local stack
  --count N      messages per drain run (default 1000)
  --pool         run only the pool stage: slow vendors (300 ms, 1.5 s, 5 s, one call at a time),
                 the worker's pool against the sequential worker (also part of --drain)
  --only A,B     pool scenarios to run (booking-300ms, openai-1500ms, openai-5s,
                 defaults-3rps-1500ms, capacity-1-300ms)
  --fixed-window run only the fixed-window stage: a vendor allowing 3 per 1 s window, 300 messages,
                 then again with 10 % 5xx answers (also part of --drain)
  --saved        only print the saved runs of bench/results/ as one object, by file name; run nothing
  --vendors      run only the vendor zoo: limiter libraries (rate-limiter-flexible's fixed window,
                 limiter's token buckets as OpenAI's rpm + tpm) at 50 ms and 1.5 s, with 500s and
                 hangs, and stated 2× too high; --only picks runs by a part of "vendor, run"
  --capacity-form the zoo's buckets in the raw capacity / windowSeconds form instead of the
                 vendor's own words (vendorLimit, the default; --vendor-limit says it explicitly)
  --shares       run only the fair-shares stage: two and three products on a 3/s booking vendor and
                 an OpenAI-like quota, backlogs ahead and bursts, on a simulated clock
  --render       only regenerate RESULTS.md, the charts and docs/performance.md from bench/results/
  --limit L      the vendor's true limit in calls per second for the drain stage (default 5)
  --outage       run only the outage stage: a backlog (--count, default 500) against a vendor down
                 for 10 minutes from t = 30 s, then a key revoked for 5 minutes (the vendor circuit)
  --outage-seconds N  the outage's length before scaling (default 600)
  --time-scale F the outage's length and the probe intervals times F (default 1; 0.1 runs the
                 stage in a few minutes; the outage still starts at t = 30 s)
  --outage-only down|key-revoked  one of the two outage runs
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
        saved: { type: 'boolean' },
        'fixed-window': { type: 'boolean' },
        pool: { type: 'boolean' },
        only: { type: 'string' },
        outage: { type: 'boolean' },
        vendors: { type: 'boolean' },
        'vendor-limit': { type: 'boolean' },
        'capacity-form': { type: 'boolean' },
        shares: { type: 'boolean' },
        'outage-seconds': { type: 'string' },
        'time-scale': { type: 'string' },
        'outage-only': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new CliUsageError(`${(error as Error).message}\n${BENCH_USAGE}`);
  }
  if (values.help) throw new CliUsageError(BENCH_USAGE);
  const quick = values.quick === true;
  const problems: string[] = [];
  const seconds = wholeNumber(values.seconds, quick ? 5 : 30, '--seconds', problems);
  const count = wholeNumber(values.count, quick ? 200 : 1000, '--count', problems);
  const limit = wholeNumber(values.limit, DEFAULT_TRUE_LIMIT, '--limit', problems);
  const outageSeconds = wholeNumber(values['outage-seconds'], 600, '--outage-seconds', problems);
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
  if (!(timeScale > 0 && timeScale <= 1)) {
    problems.push(
      `--time-scale must be a number above 0 and at most 1 (got "${String(values['time-scale'])}")`,
    );
  }
  const outageOnly = values['outage-only'];
  if (outageOnly !== undefined && outageOnly !== 'down' && outageOnly !== 'key-revoked') {
    problems.push(`--outage-only must be down or key-revoked (got "${String(outageOnly)}")`);
  }
  if (problems.length > 0) throw new CliUsageError(`Invalid options: ${problems.join('; ')}\n${BENCH_USAGE}`);
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
    saved: values.saved === true,
    fixedWindow: values['fixed-window'] === true,
    pool: values.pool === true,
    vendors: values.vendors === true,
    vendorLimit: values['capacity-form'] !== true,
    shares: values.shares === true,
    ...(typeof values.only === 'string' ? { only: values.only.split(',').map((name) => name.trim()) } : {}),
    ...(values.outage === true
      ? {
          outage: {
            messages: values.count === undefined ? 500 : count,
            outageSeconds,
            timeScale,
            runs:
              outageOnly === 'down' || outageOnly === 'key-revoked' ? [outageOnly] : ['down', 'key-revoked'],
          },
        }
      : {}),
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
