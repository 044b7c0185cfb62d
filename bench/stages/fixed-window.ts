import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FixedWindowLimit } from '../../local/simulator/fixed-window';
import { round } from '../stats';
import { type DrainFigures, type LocalReport as DrainLocalReport, drainDynamoDb, runNpmStart } from './drain';

/**
 * The fixed-window stage of `npm run bench -- --drain` (or `--fixed-window` alone): the local
 * stack drains 300 messages to a vendor that allows 3 requests per 1 s window anchored at its
 * first request, as express-rate-limit does (local/simulator/fixed-window.ts: the standard
 * RateLimit headers, Retry-After on a 429). The bucket is configured as docs/deploy.md advises
 * for a fixed window: capacity 1, windowSeconds 0.35. A second run answers every 10th admitted
 * request 500 (10 %), which the vendor client repeats.
 */
export const FIXED_WINDOW = { limit: 3, windowSeconds: 1, messages: 300, bucketWindowSeconds: 0.34 } as const;

/** `idealSeconds`: messages / (limit per window), the vendor's own bound without errors. */
export interface FixedWindowRun extends DrainFigures {
  readonly name: string;
  readonly errorShare: number;
  readonly vendorRequests: number;
  readonly grants: number;
  /** Requests the vendor received beyond the grants the worker received. */
  readonly requestsWithoutGrant: number;
  readonly refusals: number;
  readonly refusalShare: number;
  readonly errors: number;
  readonly sentBeforeRetryAfter: number;
}

export interface FixedWindowResult {
  readonly ran: boolean;
  /** The bucket's window in the run (capacity 1). */
  readonly bucketWindowSeconds?: number;
  readonly reason?: string;
  readonly command?: string;
  readonly date: string;
  readonly runs: readonly FixedWindowRun[];
}

export async function runFixedWindowStage(progress: (line: string) => void): Promise<FixedWindowResult> {
  const date = new Date().toISOString();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fixed-window-'));
  const messagesFile = join(dir, 'messages.jsonl');
  writeFileSync(
    messagesFile,
    Array.from({ length: FIXED_WINDOW.messages }, (_, i) =>
      JSON.stringify({ id: `fw-${String(i).padStart(5, '0')}`, operation: 'chatCompletion', body: { n: i } }),
    ).join('\n'),
  );
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(stackConfig(), null, 2));
  const runs: FixedWindowRun[] = [];
  let command: string | undefined;
  try {
    for (const [name, errorEvery] of [
      ['fixed window 3 per 1 s', 0],
      ['fixed window 3 per 1 s, 10 % 5xx', 10],
    ] as const) {
      progress(`fixed window: ${name}, ${FIXED_WINDOW.messages} messages`);
      const run = await drainFixedWindowVendor(dir, messagesFile, configFile, name, errorEvery, progress);
      command = run.command;
      runs.push(run.run);
    }
    return { ran: true, bucketWindowSeconds: FIXED_WINDOW.bucketWindowSeconds, command, date, runs };
  } catch (error) {
    return { ran: false, reason: (error as Error).message, date, runs };
  }
}

/** One drain against the fixed-window vendor, which answers every `errorEvery`-th admitted call 500. */
async function drainFixedWindowVendor(
  dir: string,
  messagesFile: string,
  configFile: string,
  name: string,
  errorEvery: number,
  progress: (line: string) => void,
): Promise<{ run: FixedWindowRun; command: string }> {
  const vendor = await startFixedWindowVendor(errorEvery);
  const reportFile = join(dir, `report-${errorEvery}.json`);
  let ran: { report: LocalReport; command: string };
  try {
    ran = await runNpmStart<LocalReport>({
      messagesFile,
      vendorUrl: vendor.url,
      configFile,
      reportFile,
      timeoutMs: 900_000,
      progress,
    });
  } finally {
    await vendor.stop();
  }
  const { report, command } = ran;
  const idealSeconds = FIXED_WINDOW.messages / (FIXED_WINDOW.limit / FIXED_WINDOW.windowSeconds);
  const requests = vendor.counts.requests;
  return {
    command,
    run: {
      name,
      errorShare: errorEvery ? 1 / errorEvery : 0,
      messages: FIXED_WINDOW.messages,
      completed: report.messages.completed,
      deadLettered: report.messages.deadLettered,
      lost: report.messages.lost,
      makespanSeconds: round(report.makespanSeconds, 1),
      idealSeconds,
      makespanRatio: round(report.makespanSeconds / idealSeconds, 3),
      vendorRequests: requests,
      grants: report.vendor.grants,
      requestsWithoutGrant: Math.max(0, requests - report.vendor.grants),
      refusals: vendor.counts.refusals,
      refusalShare: round(vendor.counts.refusals / Math.max(1, requests), 4),
      errors: vendor.counts.errors,
      sentBeforeRetryAfter: vendor.limit.earlyRequests,
      dynamodb: drainDynamoDb(report),
    },
  };
}

interface LocalReport {
  messages: { completed: number; deadLettered: number; lost: number };
  dynamodb: DrainLocalReport['dynamodb'];
  makespanSeconds: number;
  vendor: { calls: number; grants: number };
}

/** The fixed-window vendor over HTTP, every `errorEvery`-th admitted request answered 500 (0: none). */
async function startFixedWindowVendor(errorEvery: number) {
  const limit = new FixedWindowLimit(FIXED_WINDOW.limit, FIXED_WINDOW.windowSeconds * 1000);
  const counts = { requests: 0, refusals: 0, errors: 0, admitted: 0 };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      counts.requests += 1;
      const { ok, headers } = limit.admit(Date.now());
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (!ok) {
        counts.refusals += 1;
        return send(429, { error: 'Too many requests' });
      }
      counts.admitted += 1;
      if (errorEvery > 0 && counts.admitted % errorEvery === 0) {
        counts.errors += 1;
        return send(500, { error: 'Internal Server Error (injected)' });
      }
      send(200, { ok: true, usage: { total_tokens: 1 } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    limit,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The bucket as docs/deploy.md advises for a fixed window of 3 per 1 s: burst 1, one per 0.35 s. */
function stackConfig(): object {
  return {
    $comment: 'Written by bench/stages/fixed-window.ts: a fixed-window vendor, 3 per 1 s.',
    stage: 'local',
    lambdaTimeoutSeconds: 30,
    batchSize: 5,
    maxReceiveCount: 10,
    vendorSecretName: 'sluice/bench/api-key',
    buckets: [
      {
        dimension: 'bench#rps',
        limitType: 'requests',
        capacity: 1,
        windowSeconds: FIXED_WINDOW.bucketWindowSeconds,
      },
    ],
    vendor: {
      name: 'bench',
      baseUrl: 'https://vendor.invalid',
      allowedPaths: ['/v1/chat/completions'],
      operations: {
        chatCompletion: { method: 'POST', path: '/v1/chat/completions', dimensions: { 'bench#rps': 1 } },
      },
    },
  };
}

/** The RESULTS.md section, from the saved run. */
export function fixedWindowMarkdown(result: FixedWindowResult | undefined): string[] {
  if (!result) return [];
  const lines = [
    '## Fixed-window vendor (3 per 1 s window, anchored at the first request)',
    '',
    '- Command: `npm run bench -- --fixed-window --write` (also part of `--drain`)',
    ...(result.command
      ? [`- Each run: \`${result.command}\` (temporary files, a vendor on a free port)`]
      : []),
    `- Date: ${result.date}`,
    `- Bucket: capacity 1, windowSeconds ${result.bucketWindowSeconds ?? FIXED_WINDOW.bucketWindowSeconds} (docs/deploy.md, "Matching the vendor's limit"); ${FIXED_WINDOW.messages} messages per run; ideal = ${FIXED_WINDOW.messages} / 3 per s.`,
    '- Targets: makespan ÷ ideal ≤ 1.10; refusals ≤ 1 % (not for the 5xx run); requests without a grant 0; requests sent before a Retry-After expired 0.',
    '',
  ];
  if (!result.ran) lines.push(`Did not run: ${result.reason}`, '');
  if (result.runs.length === 0) return lines;
  lines.push(
    '| run | completed / DLQ / lost | makespan | ÷ ideal | ÷ requests at the limit | vendor requests | grants | without a grant | refusals | 5xx | before Retry-After expired |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const run of result.runs) {
    lines.push(
      `| ${run.name} | ${run.completed} / ${run.deadLettered} / ${run.lost} | ${run.makespanSeconds} s | ${run.makespanRatio} | ${requestsRatio(run)} | ${run.vendorRequests} | ${run.grants} | ${run.requestsWithoutGrant} | ${run.refusals} (${round(run.refusalShare * 100, 2)} %) | ${run.errors} | ${run.sentBeforeRetryAfter} |`,
    );
  }
  lines.push(
    '',
    '"÷ requests at the limit" divides the makespan by the time the vendor itself needs for the requests it received (requests ÷ 3 per s). The vendor counts a failed request in its window, so with 5xx answers every repeat costs a unit of the limit: no limiter that keeps to the limit can finish before requests ÷ messages of the ideal computed from the messages alone (about 1.11 with 10 % 5xx), which is why the 5xx run is judged on its requests.',
    '',
  );
  for (const run of result.runs) lines.push(`- ${run.name}: ${verdict(run)}`);
  lines.push('');
  return lines;
}

/** The makespan over the vendor's own time for the requests it received, at its limit. */
function requestsRatio(run: FixedWindowRun): number {
  const seconds = run.vendorRequests / (FIXED_WINDOW.limit / FIXED_WINDOW.windowSeconds);
  return round(run.makespanSeconds / Math.max(seconds, Number.EPSILON), 3);
}

/** Which targets the run met, in one line. */
function verdict(run: FixedWindowRun): string {
  const checks: [string, boolean][] = [
    [`makespan ÷ ideal ${run.makespanRatio} ≤ 1.10`, run.makespanRatio <= 1.1],
    ...(run.errorShare > 0
      ? [
          [`makespan ÷ requests at the limit ${requestsRatio(run)} ≤ 1.10`, requestsRatio(run) <= 1.1] as [
            string,
            boolean,
          ],
        ]
      : [
          [`refusals ${round(run.refusalShare * 100, 2)} % ≤ 1 %`, run.refusalShare <= 0.01] as [
            string,
            boolean,
          ],
        ]),
    [`${run.requestsWithoutGrant} requests without a grant`, run.requestsWithoutGrant === 0],
    [`${run.sentBeforeRetryAfter} requests before a Retry-After expired`, run.sentBeforeRetryAfter === 0],
    [`${run.lost} lost`, run.lost === 0],
  ];
  const met = checks.filter(([, ok]) => ok).map(([text]) => text);
  const missed = checks.filter(([, ok]) => !ok).map(([text]) => text);
  return `met: ${met.join('; ') || 'none'}${missed.length > 0 ? `; **missed**: ${missed.join('; ')}` : ''}.`;
}
