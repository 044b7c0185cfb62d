import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackConfig } from '../../lib/config';
import { lineChart } from '../../local/report/chart';
import {
  anchoredFixedWindow,
  openAiTokenBuckets,
  windowCounter,
  type ZooVendor,
} from '../servers/zoo-vendors';
import { round } from '../stats';
import { type DrainFigures, type LocalReport as DrainLocalReport, drainDynamoDb, runNpmStart } from './drain';

/**
 * The vendor zoo (`npm run bench -- --vendors`): the local stack (`npm start`) with default
 * pool and batch settings drains a backlog into vendors built on real limiter libraries
 * (zoo-vendors.ts), each configured with the numbers the vendor publishes. Runs per vendor: a
 * 50 ms and a 1.5 s vendor, 20 % 500s + 5 % hangs, and a bucket stated 2× too high. Figures:
 * makespan ÷ ideal, refusals, seconds above the limit as the vendor counts them, and the rate
 * scale after each penalty (from the handlers' log) beside the vendor's admitted rate.
 */
interface ZooRunSpec {
  readonly name: string;
  readonly latencyMs: number;
  readonly errorShare: number;
  readonly hangShare: number;
  /** The configured limit over the published one (2: misconfigured). */
  readonly statedOver: number;
}

const RUNS: readonly ZooRunSpec[] = [
  { name: '50 ms', latencyMs: 50, errorShare: 0, hangShare: 0, statedOver: 1 },
  { name: '1.5 s', latencyMs: 1_500, errorShare: 0, hangShare: 0, statedOver: 1 },
  { name: '20 % 500s + 5 % hangs', latencyMs: 50, errorShare: 0.2, hangShare: 0.05, statedOver: 1 },
  { name: 'stated 2× too high', latencyMs: 50, errorShare: 0, hangShare: 0, statedOver: 2 },
];

const VENDORS: Record<
  string,
  { make: () => ZooVendor; messages: number; ideal: (messages: number) => number }
> = {
  // 3 per 1 s: the issue's private vendor.
  'fixed-window-anchored': {
    make: () => anchoredFixedWindow(3, 1),
    messages: 90,
    ideal: (messages) => messages / 3,
  },
  'fixed-window-clock': {
    make: () => windowCounter('fixed-window-clock', 3, 1),
    messages: 90,
    ideal: (messages) => messages / 3,
  },
  'sliding-log': {
    make: () => windowCounter('sliding-log', 3, 1),
    messages: 90,
    ideal: (messages) => messages / 3,
  },
  // Compared unrounded, it admits 3 in its first window and 2 in each after (L − 1 per window,
  // whatever the caller does): the ideal is that, 1 s + (messages − 3) / 2 per s.
  'sliding-counter': {
    make: () => windowCounter('sliding-counter', 3, 1),
    messages: 90,
    ideal: (messages) => 1 + (messages - 3) / 2,
  },
  // OpenAI-like: 180 rpm and 9,000 tpm at 100 tokens a call (tokens bind: 1.5 calls/s after a burst of 90).
  'token-bucket-openai': {
    make: () => openAiTokenBuckets(180, 9_000, 100),
    messages: 150,
    ideal: (messages) => Math.max(0, messages * 100 - 9_000) / (9_000 / 60),
  },
};

export interface ZooRun extends DrainFigures {
  readonly vendor: string;
  readonly run: string;
  readonly vendorRequests: number;
  readonly refusals: number;
  readonly refusalShare: number;
  readonly errors: number;
  readonly hangs: number;
  readonly secondsAboveLimit: number;
  /** From the vendor's first arrival to its last: the part of the makespan the buckets pace. */
  readonly callsSpanSeconds?: number;
  /** The buckets as derived or given (`npm start` prints the same line), when derived. */
  readonly derivation?: readonly string[];
  readonly correctlyStated: boolean;
  /** Seconds since the first arrival: the scale after each penalty, and the vendor's admitted rate ÷ its limit. */
  readonly rateScale: ReadonlyArray<readonly [number, number]>;
  readonly admittedShare: ReadonlyArray<readonly [number, number]>;
  /** When this run ran (a partial run keeps the others' dates). */
  readonly date?: string;
}

export interface ZooResult {
  readonly date: string;
  readonly command: string;
  readonly bucketForm: 'capacity' | 'vendorLimit';
  readonly runs: readonly ZooRun[];
  readonly failures: readonly string[];
}

export async function runVendorZoo(
  options: { readonly vendorLimitForm: boolean; readonly only?: readonly string[] },
  progress: (line: string) => void,
): Promise<ZooResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-zoo-'));
  const runs: ZooRun[] = [];
  const failures: string[] = [];
  for (const [kind, vendorSpec] of Object.entries(VENDORS)) {
    for (const spec of RUNS) {
      const label = `${kind}, ${spec.name}`;
      if (options.only && !options.only.some((part) => label.includes(part))) continue;
      progress(`vendors: ${label}, ${vendorSpec.messages} messages`);
      try {
        runs.push(await runOnce(dir, kind, vendorSpec, spec, options.vendorLimitForm, progress));
        const last = runs.at(-1)!;
        progress(
          `vendors: ${label}: ÷ ideal ${last.makespanRatio}, refusals ${last.refusals}, above ${last.secondsAboveLimit} s`,
        );
      } catch (error) {
        failures.push(`${label}: ${(error as Error).message}`);
      }
    }
  }
  return {
    date: new Date().toISOString(),
    command: `npm run bench -- --vendors${options.vendorLimitForm ? '' : ' --capacity-form'}`,
    bucketForm: options.vendorLimitForm ? 'vendorLimit' : 'capacity',
    runs,
    failures,
  };
}

async function runOnce(
  dir: string,
  kind: string,
  vendorSpec: (typeof VENDORS)[string],
  spec: ZooRunSpec,
  vendorLimitForm: boolean,
  progress: (line: string) => void,
): Promise<ZooRun> {
  const vendor = vendorSpec.make();
  const tag = `${kind}-${spec.name.replace(/[^a-z0-9]+/gi, '-')}`;
  const messagesFile = join(dir, `${tag}.jsonl`);
  writeFileSync(
    messagesFile,
    Array.from({ length: vendorSpec.messages }, (_, i) =>
      JSON.stringify({ id: `${tag}-${String(i).padStart(5, '0')}`, operation: 'call', body: { n: i } }),
    ).join('\n'),
  );
  const configFile = join(dir, `${tag}.json`);
  writeFileSync(configFile, JSON.stringify(stackConfig(vendor, spec, vendorLimitForm), null, 2));
  const server = await serve(vendor, spec);
  const reportFile = join(dir, `${tag}-report.json`);
  let report: LocalReport;
  try {
    ({ report } = await runNpmStart<LocalReport>({
      messagesFile,
      vendorUrl: server.url,
      configFile,
      reportFile,
      timeoutMs: 600_000,
      progress,
    }));
  } finally {
    await server.stop();
  }
  // The handlers' log is rewritten by the next run: keep this one beside the run's files.
  if (report.run.handlersLog && existsSync(report.run.handlersLog))
    copyFileSync(report.run.handlersLog, join(dir, `${tag}-handlers.log`));
  writeFileSync(join(dir, `${tag}-arrivals.json`), JSON.stringify(vendor.arrivals));
  progress(`vendors: ${kind}, ${spec.name}: files in ${dir} (${tag}-*)`);
  const ideal = vendorSpec.ideal(vendorSpec.messages);
  const arrivals = vendor.arrivals;
  const refusals = arrivals.filter((a) => !a.ok).length;
  const firstMs = arrivals[0]?.atMs ?? 0;
  return {
    vendor: kind,
    run: spec.name,
    messages: vendorSpec.messages,
    completed: report.messages.completed,
    deadLettered: report.messages.deadLettered,
    lost: report.messages.lost,
    makespanSeconds: round(report.makespanSeconds, 1),
    idealSeconds: round(ideal, 1),
    makespanRatio: round(report.makespanSeconds / ideal, 3),
    dynamodb: drainDynamoDb(report),
    vendorRequests: arrivals.length,
    refusals,
    refusalShare: round(refusals / Math.max(1, arrivals.length), 4),
    errors: server.counts.errors,
    hangs: server.counts.hangs,
    secondsAboveLimit: vendor.secondsAboveLimit(),
    callsSpanSeconds: round(((arrivals.at(-1)?.atMs ?? firstMs) - firstMs) / 1000, 1),
    derivation: derivationLines(configFile),
    correctlyStated: spec.statedOver === 1,
    rateScale: rateScaleAfterPenalties(report.run.handlersLog, firstMs),
    admittedShare: admittedPerSecond(vendor, firstMs),
  };
}

/** The derivation lines of the run's `vendorLimit` buckets, as synth and `npm start` print them. */
function derivationLines(configFile: string): string[] | undefined {
  try {
    return loadStackConfig(configFile).bucketDerivations?.slice();
  } catch {
    return undefined;
  }
}

interface LocalReport extends Pick<DrainLocalReport, 'messages' | 'dynamodb'> {
  makespanSeconds: number;
  run: { handlersLog?: string };
}

/** The vendor over HTTP: the library decides; admitted requests may fail (500) or hang (never answered). */
async function serve(vendor: ZooVendor, spec: ZooRunSpec) {
  const counts = { errors: 0, hangs: 0 };
  let admitted = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', async () => {
      const { ok, headers } = await vendor.admit(Date.now());
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (!ok) return send(429, { error: { message: 'Rate limit exceeded' } });
      admitted += 1;
      // Spread evenly: every 20th admitted request hangs (5 %), 4 in each 20 fail (20 %).
      const slot = admitted % 20;
      if (spec.hangShare > 0 && slot === 0) {
        counts.hangs += 1;
        return; // never answered: the caller's timeout ends it
      }
      if (spec.errorShare > 0 && slot % 5 === 1) {
        counts.errors += 1;
        return send(500, { error: 'Internal Server Error (injected)' });
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(200, { ok: true, usage: { total_tokens: vendor.tokensPerCall || 1 } });
      }, spec.latencyMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Default pool and batch; buckets from what the vendor publishes (× `statedOver` when misconfigured). */
function stackConfig(vendor: ZooVendor, spec: ZooRunSpec, vendorLimitForm: boolean): object {
  const { requests, perSeconds, tokens } = vendor.published;
  const counting =
    vendor.kind === 'token-bucket-openai'
      ? 'token-bucket'
      : vendor.kind === 'sliding-counter'
        ? 'sliding-counter'
        : vendor.kind === 'sliding-log'
          ? 'sliding-window'
          : 'fixed-window';
  const over = spec.statedOver;
  const bucket = (dimension: string, limitType: string, amount: number, unit: 'requests' | 'tokens') =>
    vendorLimitForm
      ? {
          dimension,
          ...(unit === 'tokens' ? { limitType } : {}),
          // A token bucket states its burst too: OpenAI's buckets hold a whole minute's limit.
          vendorLimit: {
            [unit]: amount * over,
            perSeconds,
            counting,
            ...(counting === 'token-bucket' ? { burst: amount * over } : {}),
          },
        }
      : { dimension, limitType, capacity: amount * over, windowSeconds: perSeconds };
  const buckets = [bucket('zoo#rpm', 'requests', requests, 'requests')];
  const dimensions: Record<string, number> = { 'zoo#rpm': 1 };
  if (tokens !== undefined) {
    buckets.push(bucket('zoo#tpm', 'tokens', tokens, 'tokens'));
    dimensions['zoo#tpm'] = vendor.tokensPerCall;
  }
  return {
    $comment: `Written by bench/stages/vendors.ts: ${vendor.kind}, ${spec.name}; pool and batch left at their defaults.`,
    stage: 'local',
    vendorSecretName: 'sluice/bench/api-key',
    buckets,
    vendor: {
      name: 'zoo',
      baseUrl: 'https://vendor.invalid',
      allowedPaths: ['/v1/call'],
      operations: { call: { method: 'POST', path: '/v1/call', dimensions } },
    },
  };
}

/** `penalize.applied` lines of the handlers' log: the scale each penalty left, at its time. */
function rateScaleAfterPenalties(
  logFile: string | undefined,
  firstMs: number,
): Array<readonly [number, number]> {
  const points: Array<readonly [number, number]> = [[0, 1]];
  if (!logFile || !existsSync(logFile)) return points;
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('penalize.applied')) continue;
    try {
      const entry = JSON.parse(line) as { timestamp?: string; rate_scale_after?: number };
      if (entry.timestamp === undefined || entry.rate_scale_after === undefined) continue;
      points.push([round((Date.parse(entry.timestamp) - firstMs) / 1000, 2), entry.rate_scale_after]);
    } catch {
      // not a JSON line
    }
  }
  return points;
}

/** Requests the vendor admitted each second, over what its published limit allows in a second. */
function admittedPerSecond(vendor: ZooVendor, firstMs: number): Array<readonly [number, number]> {
  const perSecond: number[] = [];
  for (const arrival of vendor.arrivals) {
    if (!arrival.ok) continue;
    const second = Math.floor((arrival.atMs - firstMs) / 1000);
    while (perSecond.length <= second) perSecond.push(0);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
  }
  const { requests, perSeconds, tokens } = vendor.published;
  const allowed = tokens !== undefined ? tokens / perSeconds / vendor.tokensPerCall : requests / perSeconds;
  return perSecond.map((count, second) => [second, round(count / allowed, 3)] as const);
}

const BEGIN = '<!-- bench:vendors:begin (generated by npm run bench -- --vendors --write) -->';
const END = '<!-- bench:vendors:end -->';
const HEADING = '## Vendor zoo (real limiter libraries, default pool and batch)';

/** Which targets a run met: ≤ 1.10 of the ideal (≤ 2 with 5xx and hangs), ≤ 0.5 % refusals, 0 s above. */
function verdict(run: ZooRun): string {
  const ratioTarget = run.errors + run.hangs > 0 ? 2 : 1.1;
  const checks: Array<[string, boolean]> = [
    [`÷ ideal ${run.makespanRatio} ≤ ${ratioTarget}`, run.makespanRatio <= ratioTarget],
    [`refusals ${round(run.refusalShare * 100, 2)} % ≤ 0.5 %`, run.refusalShare <= 0.005],
    [`${run.secondsAboveLimit} s above the limit`, run.secondsAboveLimit === 0],
    [`${run.lost} lost`, run.lost === 0],
  ];
  if (!run.correctlyStated)
    return `misconfigured (targets do not apply): ${checks.map(([t]) => t).join('; ')}`;
  const missed = checks.filter(([, ok]) => !ok).map(([t]) => t);
  return missed.length === 0 ? 'all met' : `**missed**: ${missed.join('; ')}`;
}

export function zooMarkdown(result: ZooResult, chartPrefix: string): string[] {
  const lines = [
    HEADING,
    '',
    `Command: \`${result.command} --write\`; last run ${result.date}; buckets in the \`${result.bucketForm}\` form, from the numbers each vendor publishes; pool and batch at their defaults.`,
    `Measured on a ${cpus().length}-core machine shared with other developers' test runs (a noisy machine, DynamoDB Local and the stack on the same cores): the ratios are from one run (each row's date in bench/results/vendors.json), not an average, and a second run moves them by a few hundredths; a refusal more or less (the first call of a fresh worker reaching the vendor late) moves a row by about 0.03.`,
    "Vendors: `fixed-window-anchored` is rate-limiter-flexible's RateLimiterMemory, 3 per 1 s (a window starts at the first request after the last one ended; `RateLimit`/`RateLimit-Policy` and `Retry-After`); `token-bucket-openai` is two of `limiter`'s TokenBuckets, 180 rpm and 9,000 tpm at 100 tokens a call (`x-ratelimit-*`). Seconds above the limit are counted by the vendor from its arrival log in its own windows (a fixed window that counted more requests than its limit; a second of a bucket holding a refusal). Targets: ≤ 1.10 of the ideal for a correctly stated limit (≤ 2 with 20 % 500s and 5 % hangs), refusals ≤ 0.5 % of calls, 0 s above the limit.",
    '',
    '| vendor | run | completed / DLQ / lost | makespan | first → last call | ideal | ÷ ideal | requests | refusals | 500s / hangs | s above limit | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const run of result.runs) {
    lines.push(
      `| ${run.vendor} | ${run.run} | ${run.completed} / ${run.deadLettered} / ${run.lost} | ${run.makespanSeconds} s | ${run.callsSpanSeconds === undefined ? 'n/a' : `${run.callsSpanSeconds} s`} | ${run.idealSeconds} s | ${run.makespanRatio} | ${run.vendorRequests} | ${run.refusals} (${round(run.refusalShare * 100, 2)} %) | ${run.errors} / ${run.hangs} | ${run.secondsAboveLimit} | ${verdict(run)} |`,
    );
  }
  for (const failure of result.failures) lines.push('', `Did not finish: ${failure}`);
  lines.push(
    '',
    "`fixed-window-clock`, `sliding-log` and `sliding-counter` are window counters written from their published definitions (bench/servers/zoo-vendors.ts), 3 per 1 s, with `RateLimit`/`RateLimit-Policy` and `Retry-After`; each is declared with the `counting` that describes it (`fixed-window`, `sliding-window`, `sliding-counter`; the OpenAI-like buckets `token-bucket` with a burst of their whole limit). The makespan runs from the first enqueue to the last outcome, so it includes the local stack's start (enqueue, the 1 s batching window) and, at 1.5 s, the last answer; the ideal includes neither. \"First → last call\" is the part the buckets pace, from the vendor's first arrival to its last: a windowed bucket derived for 3 per 1 s grants one call every 350 ms (95.2 % of the limit, 31.2 s for 90 calls), so about 1.04 of the ideal is all a correct derivation with 50 ms of jitter can reach there, before the stack's start. The sliding counter compares its weighted estimate unrounded (the previous window's count × the share of it still inside, plus the current window's, plus the request, as Cloudflare describes it): it admits 3 in its first window and 2 in each after, whatever the caller does, so its ideal is that (44.5 s for 90), not 90 ÷ 3; `sliding-counter` derives one request fewer per window (1.905/s). A counter that rounds the weighted count down (Upstash's `slidingWindow`) admits 3 per window and is a `sliding-window` (docs/deploy.md, \"Matching the vendor's limit\").",
    '',
  );
  for (const run of result.runs) lines.push(`![${chartName(run)}](${chartPrefix}${chartName(run)})`, '');
  return lines;
}

const chartName = (run: ZooRun) =>
  `vendors-${run.vendor}-${run.run.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.svg`;

export function writeZooOutputs(fresh: ZooResult, benchDir: string): void {
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  mkdirSync(join(benchDir, 'charts'), { recursive: true });
  const saved = join(benchDir, 'results', 'vendors.json');
  // A partial run (`--only`) replaces its own runs and keeps the others, each with its own date.
  const previous = existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as ZooResult) : undefined;
  const stamped = fresh.runs.map((run) => ({ ...run, date: fresh.date }));
  const kept = (previous?.runs ?? []).filter(
    (run) => !stamped.some((other) => other.vendor === run.vendor && other.run === run.run),
  );
  const order = (run: ZooRun) =>
    `${Object.keys(VENDORS).indexOf(run.vendor)}-${RUNS.findIndex((spec) => spec.name === run.run)}`;
  const runs = [...stamped, ...kept].sort((a, b) => order(a).localeCompare(order(b)));
  const result: ZooResult = { ...fresh, runs };
  writeFileSync(saved, `${JSON.stringify(result, null, 2)}\n`);
  renderZooOutputs(benchDir);
}

/**
 * The zoo's charts and its blocks in bench/RESULTS.md and docs/performance.md, from the saved
 * runs (bench/results/vendors.json); nothing when the zoo never ran. `--render` and every
 * `--write` call it after rewriting RESULTS.md, so the block is never lost.
 */
export function renderZooOutputs(benchDir: string): void {
  const saved = join(benchDir, 'results', 'vendors.json');
  if (!existsSync(saved)) return;
  const result = JSON.parse(readFileSync(saved, 'utf8')) as ZooResult;
  mkdirSync(join(benchDir, 'charts'), { recursive: true });
  for (const run of result.runs) {
    writeFileSync(
      join(benchDir, 'charts', chartName(run)),
      lineChart({
        title: `${run.vendor}, ${run.run}: rate scale and admitted rate ÷ limit`,
        xLabel: 'seconds since the first vendor request',
        yLabel: 'share of the limit',
        series: [
          {
            name: 'rate scale',
            color: '#d62728',
            steps: true,
            points: [...run.rateScale, [run.makespanSeconds, run.rateScale.at(-1)?.[1] ?? 1]],
          },
          { name: 'admitted ÷ limit', color: '#2ca02c', steps: true, points: run.admittedShare },
        ],
        references: [{ label: 'the limit', y: 1 }],
      }),
    );
  }
  const files = [join(benchDir, 'RESULTS.md'), join(benchDir, '..', 'docs', 'performance.md')];
  replaceBlock(files[0]!, zooMarkdown(result, 'charts/'));
  replaceBlock(files[1]!, zooMarkdown(result, '../bench/charts/'));
  // The tables as the formatter lays them out, so `npm run lint` passes on the written files.
  spawnSync(join(benchDir, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', ...files], {
    stdio: 'ignore',
  });
}

/** Replaces the zoo's block (between its markers), or appends it. */
function replaceBlock(path: string, section: readonly string[]): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const block = [BEGIN, '', ...section, END].join('\n');
  const from = text.indexOf(BEGIN);
  const to = text.indexOf(END);
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + END.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}
