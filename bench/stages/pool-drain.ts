import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  inFlightOverTime,
  maxCallsInFlight,
  secondsAboveLimit,
  startSlowVendor,
  type VendorLimit,
  type VendorModel,
} from '../servers/slow-vendor';
import { round } from '../stats';
import { type DrainFigures, type LocalReport as DrainLocalReport, drainDynamoDb, runNpmStart } from './drain';

/**
 * The pool against slow vendors, through the local stack (`npm start`, local/main.ts): the real
 * worker on DynamoDB Local and fauxqs, its vendor calls sent (`--vendor-url`) to a vendor of
 * this bench with a service time and true limits that records every call from arrival to
 * answer. Each scenario runs twice: with the pool (`vendor.maxInFlight` as docs/deploy.md sizes
 * it) and sequentially (`maxInFlight` 1, the worker before the pool), with fewer messages.
 */
export interface PoolScenario {
  readonly name: string;
  readonly description: string;
  readonly model: VendorModel;
  readonly messages: number;
  readonly sequentialMessages: number;
  readonly maxInFlight: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly lambdaTimeoutSeconds: number;
  readonly requestTimeoutMs: number;
  readonly buckets: readonly object[];
  readonly dimensions: Readonly<Record<string, number>>;
  /**
   * The pool run leaves batchSize, the batching window, the Lambda and request timeouts and
   * maxInFlight at their defaults (the fields above then only label the run), as a user who
   * sets nothing gets them: the pool sizes itself from the vendor's latency.
   */
  readonly defaults?: boolean;
}

const OPENAI_LIMITS: readonly VendorLimit[] = [
  { name: 'rpm', capacity: 500, perSecond: 500 / 60, cost: 1 },
  { name: 'tpm', capacity: 40_000, perSecond: 40_000 / 60, cost: 260 },
];
/**
 * The buckets keep docs/deploy.md's margin for grant-to-arrival jitter on the vendor's burst:
 * burst − ⌈rate × 0.25 s⌉, the rate unchanged (497 at 500/60 s; 39,833 at 40,000/60 s).
 */
const OPENAI_BUCKETS = [
  { dimension: 'openai#rpm', limitType: 'requests', capacity: 497, windowSeconds: 59.64 },
  { dimension: 'openai#tpm', limitType: 'tokens', capacity: 39_833, windowSeconds: 59.75 },
];

export const POOL_SCENARIOS: readonly PoolScenario[] = [
  {
    name: 'booking-300ms',
    description: 'booking API, 5 requests/s, 300 ms a call',
    model: { latencyMs: 300, limits: [{ name: 'rps', capacity: 5, perSecond: 5, cost: 1 }] },
    messages: 400,
    sequentialMessages: 100,
    maxInFlight: 4,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    lambdaTimeoutSeconds: 30,
    requestTimeoutMs: 5_000,
    // The vendor's burst 5 less ⌈5/s × 0.25 s⌉ = 2 for grant-to-arrival jitter, the rate unchanged (docs/deploy.md).
    buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: 3, windowSeconds: 0.6 }],
    dimensions: { 'waitwhile#rps': 1 },
  },
  {
    name: 'openai-1500ms',
    description: 'OpenAI-like, 500 rpm + 40,000 tpm at 260 tokens a call (2.56 calls/s), 1.5 s a call',
    model: { latencyMs: 1_500, limits: OPENAI_LIMITS, tokensPerCall: 260 },
    messages: 500,
    sequentialMessages: 40,
    maxInFlight: 16,
    batchSize: 32,
    maxBatchingWindowSeconds: 1,
    lambdaTimeoutSeconds: 60,
    requestTimeoutMs: 10_000,
    buckets: OPENAI_BUCKETS,
    dimensions: { 'openai#rpm': 1, 'openai#tpm': 260 },
  },
  {
    name: 'openai-5s',
    description: 'OpenAI-like, 500 rpm + 40,000 tpm at 260 tokens a call (2.56 calls/s), 5 s a call',
    model: { latencyMs: 5_000, limits: OPENAI_LIMITS, tokensPerCall: 260 },
    messages: 500,
    sequentialMessages: 16,
    maxInFlight: 24,
    batchSize: 48,
    maxBatchingWindowSeconds: 1,
    lambdaTimeoutSeconds: 90,
    requestTimeoutMs: 15_000,
    buckets: OPENAI_BUCKETS,
    dimensions: { 'openai#rpm': 1, 'openai#tpm': 260 },
  },
  {
    name: 'defaults-3rps-1500ms',
    description: '3 requests/s, 1.5 s a call, pool and batch settings left at their defaults',
    model: { latencyMs: 1_500, limits: [{ name: 'rps', capacity: 3, perSecond: 3, cost: 1 }] },
    messages: 150,
    sequentialMessages: 20,
    maxInFlight: 16,
    batchSize: 40,
    maxBatchingWindowSeconds: 1,
    lambdaTimeoutSeconds: 60,
    requestTimeoutMs: 20_000,
    // The vendor's burst 3 less ⌈3/s × 0.25 s⌉ = 1 for grant-to-arrival jitter, the rate unchanged (docs/deploy.md).
    buckets: [{ dimension: 'slow#rps', limitType: 'requests', capacity: 2, windowSeconds: 0.667 }],
    dimensions: { 'slow#rps': 1 },
    defaults: true,
  },
  {
    name: 'capacity-1-300ms',
    description: 'one request at a time (503 when busy, the sweeppea profile), 300 ms a call',
    model: { latencyMs: 300, limits: [], concurrency: 1 },
    messages: 150,
    sequentialMessages: 60,
    maxInFlight: 2,
    // One call at a time: every batch boundary leaves the vendor idle, so batches are as long
    // as the slot safely holds (docs/deploy.md, "Sizing the pool", rule 3).
    batchSize: 40,
    maxBatchingWindowSeconds: 1,
    lambdaTimeoutSeconds: 30,
    requestTimeoutMs: 5_000,
    buckets: [{ dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 }],
    dimensions: { 'sweeppea#concurrent': 1 },
  },
];

export interface PoolRun extends DrainFigures {
  readonly maxInFlight: number;
  /** Completions per second over the run, and as a share of what the true limit allows. */
  readonly callsPerSecond: number;
  readonly shareOfAllowedRate: number;
  readonly vendorCalls: number;
  readonly vendorRefusals: number;
  readonly refusalShare: number;
  readonly secondsAboveLimit: number;
  readonly maxInFlightAtVendor: number;
  readonly requeues: number;
  readonly perSecond: Array<{ second: number; maxInFlight: number; admitted: number }>;
}

export interface PoolScenarioResult {
  readonly name: string;
  /** When and how this scenario ran (a later `--only` run replaces it alone). */
  readonly date?: string;
  readonly command?: string;
  readonly description: string;
  readonly latencyMs: number;
  readonly allowedPerSecond: number;
  readonly pool?: PoolRun;
  readonly sequential?: PoolRun;
  readonly error?: string;
}

export interface PoolResult {
  readonly ran: boolean;
  readonly command: string;
  readonly date: string;
  readonly nproc: number;
  readonly note: string;
  readonly scenarios: readonly PoolScenarioResult[];
}

/** What the true limits allow per second, sustained (a concurrency limit: 1 call per latency each). */
export function allowedPerSecond(model: VendorModel): number {
  const rates = model.limits.map((limit) => limit.perSecond / limit.cost);
  if (model.concurrency !== undefined) rates.push((model.concurrency * 1000) / model.latencyMs);
  return Math.min(...rates);
}

/**
 * The makespan of a perfect caller: the initial burst at once, then the refill, plus the last
 * call's latency; with a concurrency limit, `messages` calls back to back on that many slots.
 */
export function idealSeconds(model: VendorModel, messages: number): number {
  const byRate = model.limits.map(
    (limit) => Math.max(0, messages * limit.cost - limit.capacity) / limit.perSecond,
  );
  const byConcurrency =
    model.concurrency !== undefined ? (messages * model.latencyMs) / 1000 / model.concurrency : 0;
  return Math.max(byConcurrency, Math.max(0, ...byRate) + model.latencyMs / 1000);
}

export async function runPoolStage(
  only: readonly string[] | undefined,
  progress: (line: string) => void,
): Promise<PoolResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pool-'));
  const scenarios: PoolScenarioResult[] = [];
  for (const scenario of POOL_SCENARIOS) {
    if (only && !only.includes(scenario.name)) continue;
    const base = {
      name: scenario.name,
      description: scenario.description,
      latencyMs: scenario.model.latencyMs,
      allowedPerSecond: round(allowedPerSecond(scenario.model), 3),
    };
    try {
      progress(`${scenario.name}: pool of ${scenario.maxInFlight}, ${scenario.messages} messages`);
      const pool = await runOnce(dir, scenario, scenario.maxInFlight, scenario.messages, progress);
      progress(
        `${scenario.name}: makespan / ideal ${pool.makespanRatio}, max in flight ${pool.maxInFlightAtVendor}`,
      );
      progress(`${scenario.name}: sequential, ${scenario.sequentialMessages} messages`);
      const sequential = await runOnce(dir, scenario, 1, scenario.sequentialMessages, progress);
      progress(`${scenario.name}: sequential ${sequential.callsPerSecond} calls/s`);
      scenarios.push({ ...base, pool, sequential });
    } catch (error) {
      scenarios.push({ ...base, error: (error as Error).message });
    }
  }
  return {
    ran: scenarios.some((s) => s.pool !== undefined),
    command: `npm run bench -- --pool${only ? ` --only ${only.join(',')}` : ''}`,
    date: new Date().toISOString(),
    nproc: (await import('node:os')).cpus().length,
    note: 'Run once on a 2-core machine shared with four other engineers running tests: a loaded machine.',
    scenarios,
  };
}

async function runOnce(
  dir: string,
  scenario: PoolScenario,
  maxInFlight: number,
  messages: number,
  progress: (line: string) => void,
): Promise<PoolRun> {
  const tag = `${scenario.name}-${maxInFlight}`;
  const messagesFile = join(dir, `${tag}.jsonl`);
  writeFileSync(
    messagesFile,
    Array.from({ length: messages }, (_, i) =>
      JSON.stringify({ id: `${tag}-${String(i).padStart(5, '0')}`, operation: 'call', body: { n: i } }),
    ).join('\n'),
  );
  const configFile = join(dir, `${tag}.json`);
  writeFileSync(configFile, JSON.stringify(stackConfig(scenario, maxInFlight), null, 2));
  const reportFile = join(dir, `${tag}-report.json`);
  const vendor = await startSlowVendor(scenario.model);
  let report: LocalReport;
  try {
    ({ report } = await runNpmStart<LocalReport>({
      messagesFile,
      vendorUrl: vendor.url,
      configFile,
      reportFile,
      timeoutMs: Math.max(600_000, idealSeconds(scenario.model, messages) * 4_000),
      progress,
    }));
  } finally {
    await vendor.stop();
  }
  const calls = vendor.calls;
  const refusals = calls.filter((call) => call.status !== 200).length;
  const ideal = idealSeconds(scenario.model, messages);
  const callsPerSecond = report.messages.completed / report.makespanSeconds;
  return {
    maxInFlight,
    messages,
    completed: report.messages.completed,
    deadLettered: report.messages.deadLettered,
    lost: report.messages.lost,
    makespanSeconds: round(report.makespanSeconds, 1),
    idealSeconds: round(ideal, 1),
    makespanRatio: round(report.makespanSeconds / ideal, 3),
    callsPerSecond: round(callsPerSecond, 3),
    shareOfAllowedRate: round(callsPerSecond / allowedPerSecond(scenario.model), 3),
    vendorCalls: calls.length,
    vendorRefusals: refusals,
    refusalShare: round(refusals / Math.max(1, calls.length), 4),
    secondsAboveLimit: secondsAboveLimit(calls),
    maxInFlightAtVendor: maxCallsInFlight(calls),
    requeues: report.requeues,
    perSecond: inFlightOverTime(calls),
    dynamodb: drainDynamoDb(report),
  };
}

interface LocalReport {
  messages: { completed: number; deadLettered: number; lost: number };
  dynamodb: DrainLocalReport['dynamodb'];
  makespanSeconds: number;
  requeues: number;
}

function stackConfig(scenario: PoolScenario, maxInFlight: number): object {
  if (scenario.defaults && maxInFlight !== 1) {
    return {
      $comment: `Written by bench/stages/pool-drain.ts: ${scenario.description}.`,
      stage: 'local',
      maxReceiveCount: 10,
      vendorSecretName: 'sluice/bench/api-key',
      buckets: scenario.buckets,
      vendor: {
        name: 'bench',
        baseUrl: 'https://vendor.invalid',
        allowedPaths: ['/v1/call'],
        operations: { call: { method: 'POST', path: '/v1/call', dimensions: scenario.dimensions } },
      },
    };
  }
  return {
    $comment: `Written by bench/stages/pool-drain.ts: ${scenario.description}.`,
    stage: 'local',
    lambdaTimeoutSeconds: scenario.lambdaTimeoutSeconds,
    batchSize: scenario.batchSize,
    maxBatchingWindowSeconds: scenario.maxBatchingWindowSeconds,
    maxReceiveCount: 10,
    vendorSecretName: 'sluice/bench/api-key',
    buckets: scenario.buckets,
    vendor: {
      name: 'bench',
      baseUrl: 'https://vendor.invalid',
      allowedPaths: ['/v1/call'],
      maxInFlight,
      expectedLatencyMs: scenario.model.latencyMs,
      requestTimeoutMs: scenario.requestTimeoutMs,
      operations: { call: { method: 'POST', path: '/v1/call', dimensions: scenario.dimensions } },
    },
  };
}
