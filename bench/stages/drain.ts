import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from '../options';
import {
  type RecordedCall,
  refusalsOverTime,
  secondsUntilBelow,
  startLimitedVendor,
} from '../servers/vendor-server';
import { round } from '../stats';

/**
 * Figures 4 and 5 through the local stack (`npm start`, local/main.ts): the real worker and
 * reconciler handlers on DynamoDB Local and fauxqs, sending their vendor calls (`--vendor-url`)
 * to a vendor of this bench with a true limit of L calls per second that records every call.
 * Only this project's SDK runs there: the worker is built on it.
 */
const REFUSAL_THRESHOLD = 0.02;
const ROOT = join(__dirname, '..', '..');

/** What every run of the local stack in the bench reports: the messages' fates and the time. */
export interface DrainFigures {
  readonly messages: number;
  readonly completed: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly makespanSeconds: number;
  /** The true limit's own bound for the work, and the makespan over it. */
  readonly idealSeconds: number;
  readonly makespanRatio: number;
  /** What the run cost in DynamoDB, with WCU and requests per completed message. */
  readonly dynamodb: DrainDynamoDb;
}

export interface DrainRun extends DrainFigures {
  readonly bucketCapacityPerSecond: number;
  readonly vendorCalls: number;
  readonly vendorRefusals: number;
  readonly refusalShare: number;
  readonly requeues: number;
  readonly penalties: number;
  readonly refusalsPer10s: Array<{ fromSeconds: number; calls: number; refusals: number; share: number }>;
  /** Seconds from the first call until the refusal share stays below 2% per 10 s; null if never. */
  readonly secondsUntilRefusalsBelow2Percent: number | null;
}

export interface DrainResult {
  readonly ran: boolean;
  readonly reason?: string;
  readonly trueLimitPerSecond: number;
  readonly command?: string;
  readonly drain?: DrainRun;
  readonly misconfigured?: DrainRun;
  readonly date: string;
}

export async function runDrainStage(
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<DrainResult> {
  const limit = options.limit;
  const base = { trueLimitPerSecond: limit, date: new Date().toISOString() };
  if (!existsSync(join(ROOT, 'local', 'main.ts'))) {
    return { ...base, ran: false, reason: 'local/main.ts (npm start) does not exist yet' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-drain-'));
  const messagesFile = join(dir, 'messages.jsonl');
  writeFileSync(
    messagesFile,
    Array.from({ length: options.count }, (_, i) =>
      JSON.stringify({
        id: `drain-${String(i).padStart(5, '0')}`,
        operation: 'chatCompletion',
        body: { n: i },
      }),
    ).join('\n'),
  );
  try {
    progress(`drain: ${options.count} messages, buckets at the true limit ${limit}/s`);
    const drain = await drainAtRate(dir, messagesFile, options.count, limit, limit, progress);
    progress(`misconfiguration: buckets at ${2 * limit}/s, the vendor allows ${limit}/s`);
    const misconfigured = await drainAtRate(dir, messagesFile, options.count, limit, 2 * limit, progress);
    return { ...base, ran: true, command: drain.command, drain: drain.run, misconfigured: misconfigured.run };
  } catch (error) {
    return { ...base, ran: false, reason: (error as Error).message };
  }
}

/** One drain, the buckets at `bucketPerSecond` and the vendor's true limit at `limit`, both per second. */
async function drainAtRate(
  dir: string,
  messagesFile: string,
  count: number,
  limit: number,
  bucketPerSecond: number,
  progress: (line: string) => void,
): Promise<{ run: DrainRun; command: string }> {
  const configFile = join(dir, `config-${bucketPerSecond}.json`);
  writeFileSync(configFile, JSON.stringify(stackConfig(bucketPerSecond), null, 2));
  const reportFile = join(dir, `report-${bucketPerSecond}.json`);
  const vendor = await startLimitedVendor(limit);
  try {
    const { report, command } = await runNpmStart<Parameters<typeof summarize>[0]>({
      messagesFile,
      vendorUrl: vendor.url,
      configFile,
      reportFile,
      timeoutMs: Math.max(600_000, (20_000 * count) / limit),
      progress,
    });
    return { run: summarize(report, vendor.calls, count, limit, bucketPerSecond), command };
  } finally {
    await vendor.stop();
  }
}

/** What the run's DynamoDB calls cost, in all, per completed message and by purpose. */
export interface DrainDynamoDb {
  readonly requests: number;
  readonly rcu: number;
  readonly wcu: number;
  readonly requestsPerCompleted: number;
  readonly wcuPerCompleted: number;
  readonly byPurpose?: Readonly<Record<string, { requests: number; rcu: number; wcu: number }>>;
}

export interface LocalReport {
  messages: { completed: number; deadLettered: number; lost: number };
  makespanSeconds: number;
  requeues: number;
  penalties: number;
  dynamodb: {
    requests: number;
    rcu: number;
    wcu: number;
    byPurpose?: Record<string, { requests: number; rcu: number; wcu: number }>;
  };
}

/** The local stack's DynamoDB figures, with the two per completed message the bench compares runs by. */
export function drainDynamoDb(report: Pick<LocalReport, 'messages' | 'dynamodb'>): DrainDynamoDb {
  const completed = Math.max(1, report.messages.completed);
  const { requests, rcu, wcu, byPurpose } = report.dynamodb;
  return {
    requests,
    rcu,
    wcu,
    requestsPerCompleted: round(requests / completed, 2),
    wcuPerCompleted: round(wcu / completed, 2),
    ...(byPurpose ? { byPurpose } : {}),
  };
}

function summarize(
  report: LocalReport,
  calls: readonly RecordedCall[],
  count: number,
  limit: number,
  bucketPerSecond: number,
): DrainRun {
  const refusals = calls.filter((call) => call.status === 429).length;
  const idealSeconds = count / limit;
  const windows = refusalsOverTime(calls, 10).map((w) => ({ ...w, share: round(w.share, 4) }));
  return {
    bucketCapacityPerSecond: bucketPerSecond,
    messages: count,
    completed: report.messages.completed,
    deadLettered: report.messages.deadLettered,
    lost: report.messages.lost,
    makespanSeconds: round(report.makespanSeconds, 1),
    idealSeconds,
    makespanRatio: round(report.makespanSeconds / idealSeconds, 3),
    vendorCalls: calls.length,
    vendorRefusals: refusals,
    refusalShare: round(refusals / Math.max(1, calls.length), 4),
    requeues: report.requeues,
    penalties: report.penalties,
    dynamodb: drainDynamoDb(report),
    refusalsPer10s: windows,
    secondsUntilRefusalsBelow2Percent: secondsUntilBelow(windows, REFUSAL_THRESHOLD),
  };
}

/** One vendor limit as the stack configuration states it (schema: lib/config.ts). */
function stackConfig(bucketPerSecond: number): object {
  return {
    $comment: 'Written by bench/stages/drain.ts: one requests bucket, one operation.',
    stage: 'local',
    lambdaTimeoutSeconds: 30,
    batchSize: 5,
    maxReceiveCount: 10,
    vendorSecretName: 'sluice/bench/api-key',
    buckets: [
      { dimension: 'openai#rpm', limitType: 'requests', capacity: bucketPerSecond, windowSeconds: 1 },
    ],
    vendor: {
      name: 'bench',
      baseUrl: 'https://vendor.invalid',
      allowedPaths: ['/v1/chat/completions'],
      operations: {
        chatCompletion: { method: 'POST', path: '/v1/chat/completions', dimensions: { 'openai#rpm': 1 } },
      },
    },
  };
}

function runChild(
  args: readonly string[],
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolve, reject) => {
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, [...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      progress(`npm start still running after ${timeoutMs / 1000} s: stopping it`);
      child.kill('SIGINT');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, tail: output.slice(-1500) });
    });
  });
}

/**
 * One `npm start` of the local stack against a bench vendor, with `--report` and `--quiet`: the
 * command as a reader would type it (the report file left as FILE), and the report it wrote.
 */
export async function runNpmStart<Report>(run: {
  readonly messagesFile: string;
  readonly vendorUrl: string;
  readonly configFile: string;
  readonly reportFile: string;
  readonly extraArgs?: readonly string[];
  readonly timeoutMs: number;
  readonly progress: (line: string) => void;
}): Promise<{ report: Report; command: string; exitCode: number | null }> {
  const args = [
    'local/main.ts',
    '--messages',
    run.messagesFile,
    '--vendor-url',
    run.vendorUrl,
    '--config',
    run.configFile,
    ...(run.extraArgs ?? []),
  ];
  const command = `npm start -- ${args.slice(1).join(' ')} --report FILE --quiet`;
  const exit = await runChild([...args, '--report', run.reportFile, '--quiet'], run.timeoutMs, run.progress);
  if (!existsSync(run.reportFile))
    throw new Error(`npm start wrote no report (exit ${exit.code}): ${exit.tail}`);
  return { report: JSON.parse(readFileSync(run.reportFile, 'utf8')) as Report, command, exitCode: exit.code };
}
