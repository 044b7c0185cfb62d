import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type Series, thin } from '../../local/report/chart';
import type { DrainResult } from '../stages/drain';
import { type FixedWindowResult, fixedWindowMarkdown } from '../stages/fixed-window';
import { POOL_SCENARIOS, type PoolResult } from '../stages/pool-drain';
import { type SharesResult, sharesChart, sharesMarkdown } from '../stages/shares';
import { renderZooOutputs } from '../stages/vendors';
import type { BenchJson } from './bench-json';
import { type OutageResult, outageMarkdown, writeOutageCharts } from './outage-report';
import { updatePerformanceDoc } from './performance-block';
import { poolMarkdown, updatePoolBlock, writePoolCharts } from './pool-report';
import { resultsMarkdown } from './results-markdown';
import { COLUMNS } from './table';

const BENCH_DIR = join(__dirname, '..');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const CHARTS_DIR = join(BENCH_DIR, 'charts');
const COLORS = { sluiceAws: '#1f77b4', documentedSluice: '#ff7f0e', rateLimiterFlexible: '#2ca02c' } as const;
const SHORT = {
  sluiceAws: 'Sluice for AWS',
  documentedSluice: 'documented Sluice',
  rateLimiterFlexible: 'rate-limiter-flexible',
} as const;

/**
 * Saves the run's JSON beside the previous stage's, then regenerates the charts and
 * bench/RESULTS.md from both files: every number written there comes from a saved run.
 */
export function writeOutputs(outputs: {
  suite?: BenchJson;
  drain?: DrainResult;
  pool?: PoolResult;
  fixedWindow?: FixedWindowResult;
  outage?: OutageResult;
  shares?: SharesResult;
}): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  mkdirSync(CHARTS_DIR, { recursive: true });
  if (outputs.suite) writeJson('suite.json', outputs.suite);
  if (outputs.drain) writeJson('drain.json', outputs.drain);
  if (outputs.pool) writeJson('pool.json', mergePool(readJson<PoolResult>('pool.json'), outputs.pool));
  if (outputs.fixedWindow) writeJson('fixed-window.json', outputs.fixedWindow);
  const fixedWindow = readJson<FixedWindowResult>('fixed-window.json');
  if (outputs.outage) writeJson('outage.json', outputs.outage);
  const outage = readJson<OutageResult>('outage.json');
  const outageSection = outage
    ? outageMarkdown(outage, writeOutageCharts(outage, CHARTS_DIR), 'charts/')
    : [];
  if (outputs.shares) writeJson('shares.json', outputs.shares);
  const shares = readJson<SharesResult>('shares.json');
  const sharesSection = shares ? sharesMarkdown(shares, writeSharesCharts(shares), 'charts/') : [];
  const suite = outputs.suite ?? readJson<BenchJson>('suite.json');
  const drain = outputs.drain ?? readJson<DrainResult>('drain.json');
  const pool = readJson<PoolResult>('pool.json');
  const charts: string[] = [];
  if (suite) charts.push(...suiteCharts(suite));
  if (drain?.ran) charts.push(...drainCharts(drain));
  const poolCharts = pool?.ran ? writePoolCharts(pool, CHARTS_DIR) : [];
  const results = resultsMarkdown(suite, drain, charts);
  const withPool = pool ? `${results}\n${poolMarkdown(pool, poolCharts, 'charts/').join('\n')}\n` : results;
  const fixed = fixedWindowMarkdown(fixedWindow);
  writeFileSync(
    join(BENCH_DIR, 'RESULTS.md'),
    [withPool, fixed.length ? fixed.join('\n') : '', outageSection.join('\n'), sharesSection.join('\n')]
      .filter((part) => part.length > 0)
      .join('\n') + '\n',
  );
  const doc = join(BENCH_DIR, '..', 'docs', 'performance.md');
  updatePerformanceDoc(doc, suite, drain);
  if (pool) updatePoolBlock(doc, poolMarkdown(pool, poolCharts, '../bench/charts/'));
  formatMarkdown([join(BENCH_DIR, 'RESULTS.md'), doc]);
  renderZooOutputs(BENCH_DIR);
}

/** Every saved run of bench/results/, by file name without `.json` (`npm run bench -- --saved`). */
export function savedResults(): Record<string, unknown> {
  if (!existsSync(RESULTS_DIR)) return {};
  const names = readdirSync(RESULTS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
  return Object.fromEntries(names.map((name) => [name.slice(0, -'.json'.length), readJson(name)]));
}

/** The fair-shares charts: the booking runs with the backlog ahead (before, 0.75 / 0.25, equal). */
function writeSharesCharts(shares: SharesResult): string[] {
  return shares.runs.slice(0, 3).map((run, i) => {
    const name = `shares-${i + 1}.svg`;
    writeFileSync(join(CHARTS_DIR, name), sharesChart(run));
    return name;
  });
}

/** `npm run lint` checks Markdown too: leave the generated files as the formatter would. */
function formatMarkdown(files: readonly string[]): void {
  const biome = join(BENCH_DIR, '..', 'node_modules', '.bin', 'biome');
  spawnSync(biome, ['format', '--write', ...files], { stdio: 'ignore' });
}

/**
 * A run of some scenarios (`--only`) replaces those in the saved run and keeps the others, each
 * scenario with its own date and command.
 */
function mergePool(saved: PoolResult | undefined, fresh: PoolResult): PoolResult {
  const stamped = fresh.scenarios.map((scenario) => ({
    ...scenario,
    date: fresh.date,
    command: fresh.command,
  }));
  if (!saved) return { ...fresh, scenarios: stamped };
  const names = new Set(stamped.map((scenario) => scenario.name));
  const kept = saved.scenarios.map((scenario) => ({ date: saved.date, command: saved.command, ...scenario }));
  const scenarios = [...kept.filter((scenario) => !names.has(scenario.name)), ...stamped];
  const order = (name: string) => POOL_SCENARIOS.findIndex((scenario) => scenario.name === name);
  scenarios.sort((a, b) => order(a.name) - order(b.name));
  return { ...fresh, ran: scenarios.some((scenario) => scenario.pool !== undefined), scenarios };
}

function writeJson(name: string, value: unknown): void {
  writeFileSync(join(RESULTS_DIR, name), `${JSON.stringify(value, null, 2)}\n`);
}

function readJson<T>(name: string): T | undefined {
  const path = join(RESULTS_DIR, name);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

function suiteCharts(suite: BenchJson): string[] {
  const tokens: Series[] = [];
  const admitted: Series[] = [];
  for (const name of COLUMNS) {
    const chart = suite.charts[name];
    if (!chart) continue;
    const label = SHORT[name];
    tokens.push({
      name: label,
      color: COLORS[name],
      points: thin(
        chart.tokens.map((p) => [p.atSeconds, p.tokens] as const),
        600,
      ),
    });
    admitted.push({
      name: label,
      color: COLORS[name],
      steps: true,
      points: [
        ...chart.admittedPerSecond.map((units, second) => [second, units] as const),
        [chart.admittedPerSecond.length, chart.admittedPerSecond.at(-1) ?? 0] as const,
      ],
    });
  }
  const rate = suite.contention?.refillPerSecond ?? 50;
  writeFileSync(
    join(CHARTS_DIR, 'tokens-over-time.svg'),
    lineChart({
      title: `Tokens implied by the grants (8 clients, limit ${rate}/s, demand 3×)`,
      xLabel: 'seconds',
      yLabel: 'tokens (below 0 = over-admitted)',
      series: tokens,
      references: [{ label: 'empty', y: 0 }],
    }),
  );
  writeFileSync(
    join(CHARTS_DIR, 'admitted-rate.svg'),
    lineChart({
      title: `Units admitted per second against the limit`,
      xLabel: 'seconds',
      yLabel: 'units admitted per second',
      series: admitted,
      references: [{ label: `limit ${rate}/s`, y: rate }],
    }),
  );
  return ['charts/tokens-over-time.svg', 'charts/admitted-rate.svg'];
}

function drainCharts(drain: DrainResult): string[] {
  const series: Series[] = [];
  const add = (name: string, color: string, run: DrainResult['drain']) => {
    if (!run) return;
    series.push({
      name,
      color,
      points: run.refusalsPer10s.map((w) => [w.fromSeconds + 5, 100 * w.share] as const),
    });
  };
  add('buckets at 2× the limit', '#d62728', drain.misconfigured);
  add('buckets at the limit', '#1f77b4', drain.drain);
  writeFileSync(
    join(CHARTS_DIR, 'refusals-misconfiguration.svg'),
    lineChart({
      title: `Vendor refusals per 10 s (true limit ${drain.trueLimitPerSecond}/s)`,
      xLabel: 'seconds since the first vendor call',
      yLabel: 'refused calls (%)',
      series,
      references: [{ label: '2%', y: 2 }],
    }),
  );
  return ['charts/refusals-misconfiguration.svg'];
}
