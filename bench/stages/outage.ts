import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVendorSimulator } from '../../local/simulator';
import type { SimulatorSchedule } from '../../local/simulator/types';
import { round } from '../stats';
import { runNpmStart } from './drain';

/**
 * `npm run bench -- --outage`: the vendor circuit against an outage, through the local stack
 * (`npm start` with `--vendor-url` at a vendor simulator run here, on a schedule). A backlog is
 * queued; the vendor goes down at t = 30 s for 10 minutes, then is healthy; a second run
 * revokes the key for 5 minutes instead. The outage's length and the probe intervals are
 * multiplied by `timeScale` (its start is not: the stack boots first), so a short run
 * (`--time-scale 0.1`) checks the stage in minutes.
 */
export interface OutageOptions {
  readonly messages: number;
  /** Outage length before scaling. @default 600 */
  readonly outageSeconds: number;
  readonly timeScale: number;
  /** Which runs: the outage, the revoked key, or both. */
  readonly runs: readonly OutageKind[];
}

export type OutageKind = 'down' | 'key-revoked';

/** The booking vendor's 5 requests/s, the bucket configured to match. */
const RATE_PER_SECOND = 5;
const OUTAGE_FROM_SECONDS = 30;
const KEY_REVOKED_SECONDS = 300;
const PROBE_INTERVAL_SECONDS = 30;
const MAX_PROBE_INTERVAL_SECONDS = 300;
/** The interval grows only past an outage this long (the default). */
const BACKOFF_AFTER_SECONDS = 1_800;

export interface OutageRun {
  readonly kind: OutageKind;
  readonly messages: number;
  readonly outage: { readonly fromSeconds: number; readonly forSeconds: number };
  readonly probeIntervalSeconds: number;
  readonly maxProbeIntervalSeconds: number;
  readonly maxAgeSeconds: number;
  readonly completed: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly pending: number;
  readonly completedTwice: number;
  /** Calls the vendor received after the circuit first opened and before the vendor recovered. */
  readonly callsWhileOpen: number;
  /** Probes the workers made in that time (one call each): the calls should be no more. */
  readonly probesWhileOpen: number;
  /** Shortest gap between two of those calls, against the probe interval. */
  readonly shortestGapBetweenCallsSeconds: number | null;
  /** Vendor back → first completed message (target ≤ 30 s, one probe interval). */
  readonly firstCompletionAfterRecoverySeconds: number | null;
  /** Vendor back → last completed message, and that against its ideal (every message at the bucket's rate from the return). */
  readonly lastCompletionAfterRecoverySeconds: number | null;
  readonly recoveryIdealSeconds: number;
  readonly recoveryRatio: number | null;
  /** 429s the vendor answered in the 10 s after the first completion: the herd at resume. */
  readonly refusedInFirst10Seconds: number;
  /** The probe interval in force when the vendor recovered. */
  readonly intervalAtRecoverySeconds: number | null;
  readonly drainMessages: number;
  readonly drainSeconds: number | null;
  readonly drainIdealSeconds: number;
  readonly drainRatio: number | null;
  readonly circuit: { opened: number; probes: number; closed: number; deferrals: number };
  readonly timeline: {
    readonly calls: Array<[number, number]>;
    readonly completions: Array<[number, number]>;
    readonly open: Array<[number, number]>;
  };
}

export async function runOutageStage(
  options: OutageOptions,
  progress: (line: string) => void,
): Promise<{ date: string; command: string; timeScale: number; runs: OutageRun[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-outage-'));
  const runs: OutageRun[] = [];
  for (const kind of options.runs) runs.push(await runOnce(dir, kind, options, progress));
  return {
    date: new Date().toISOString(),
    command: `npm run bench -- --outage --count ${options.messages} --outage-seconds ${options.outageSeconds} --time-scale ${options.timeScale}`,
    timeScale: options.timeScale,
    runs,
  };
}

async function runOnce(
  dir: string,
  kind: OutageKind,
  options: OutageOptions,
  progress: (line: string) => void,
): Promise<OutageRun> {
  const scale = (seconds: number) => Math.max(1, Math.round(seconds * options.timeScale));
  const outage = {
    // Not scaled: the local stack needs its few seconds to boot before the backlog drains.
    fromSeconds: OUTAGE_FROM_SECONDS,
    forSeconds: scale(kind === 'down' ? options.outageSeconds : KEY_REVOKED_SECONDS),
  };
  const probeIntervalSeconds = scale(PROBE_INTERVAL_SECONDS);
  const maxProbeIntervalSeconds = Math.min(900, scale(MAX_PROBE_INTERVAL_SECONDS));
  const backoffAfterSeconds = scale(BACKOFF_AFTER_SECONDS);
  // Longer than the outage and what follows it: the target is that nothing is dead-lettered.
  const maxAgeSeconds = outage.fromSeconds + outage.forSeconds + 3 * maxProbeIntervalSeconds + 600;
  const messagesFile = join(dir, `${kind}.jsonl`);
  writeFileSync(
    messagesFile,
    Array.from({ length: options.messages }, (_, i) =>
      JSON.stringify({
        id: `${kind}-${String(i).padStart(5, '0')}`,
        operation: 'createVisit',
        params: { locationId: `loc-${i}` },
        body: { name: `guest ${i}` },
      }),
    ).join('\n'),
  );
  const configFile = join(dir, `${kind}.json`);
  writeFileSync(
    configFile,
    JSON.stringify(
      stackConfig(probeIntervalSeconds, maxProbeIntervalSeconds, backoffAfterSeconds, maxAgeSeconds),
      null,
      2,
    ),
  );
  const reportFile = join(dir, `${kind}-report.json`);
  const schedule: SimulatorSchedule = kind === 'down' ? { down: outage } : { keyRevoked: outage };
  // Five requests a second, as the bucket; 1 write/s per location never binds (one visit each).
  const simulator = await startVendorSimulator({ profile: 'waitwhile', latencyMs: 20, schedule });
  const startedAtMs = Date.now();
  let report: LocalReport;
  progress(
    `${kind}: ${options.messages} messages, vendor ${kind} from ${outage.fromSeconds} s for ${outage.forSeconds} s`,
  );
  try {
    const budgetSeconds =
      outage.fromSeconds + outage.forSeconds + 4 * maxProbeIntervalSeconds + options.messages;
    const run = await runNpmStart<LocalReport>({
      messagesFile,
      vendorUrl: simulator.url,
      configFile,
      reportFile,
      extraArgs: ['--max-run-seconds', String(budgetSeconds)],
      timeoutMs: (budgetSeconds + 120) * 1000,
      progress,
    });
    progress(`${kind}: npm start exited ${run.exitCode}`);
    report = run.report;
  } finally {
    await simulator.stop();
  }
  const events = circuitEvents(report.run.handlersLog, startedAtMs);
  const stats = simulator.stats();
  const at = (ms: number) => (ms - startedAtMs) / 1000;
  const calls = stats.timeline.map((entry) => ({ t: at(entry.atMs), status: entry.status }));
  const recoveredAt = outage.fromSeconds + outage.forSeconds;
  const firstOpen = events.find((event) => event.event === 'circuit.opened')?.t;
  const whileOpen = calls.filter(
    (call) => firstOpen !== undefined && call.t >= firstOpen && call.t < recoveredAt,
  );
  const gaps = whileOpen.slice(1).map((call, i) => call.t - (whileOpen[i]?.t ?? call.t));
  const probesWhileOpen = events.filter(
    (event) =>
      event.event === 'circuit.probe' &&
      firstOpen !== undefined &&
      event.t >= firstOpen &&
      event.t < recoveredAt,
  ).length;
  const successes = calls.filter((call) => call.status >= 200 && call.status < 300).map((call) => call.t);
  const afterRecovery = successes.filter((t) => t >= recoveredAt);
  const firstAfter = afterRecovery[0];
  const lastAfter = afterRecovery.at(-1);
  const lastInterval = [...events]
    .reverse()
    .find((event) => event.t < recoveredAt && event.intervalSeconds !== undefined)?.intervalSeconds;
  const drainIdealSeconds = Math.max(0, afterRecovery.length - RATE_PER_SECOND) / RATE_PER_SECOND;
  const drainSeconds = firstAfter !== undefined && lastAfter !== undefined ? lastAfter - firstAfter : null;
  const recoveryIdealSeconds = afterRecovery.length / RATE_PER_SECOND;
  const lastSeconds = lastAfter === undefined ? null : lastAfter - recoveredAt;
  const refusedInFirst10Seconds =
    firstAfter === undefined
      ? 0
      : calls.filter((call) => call.status === 429 && call.t >= firstAfter && call.t < firstAfter + 10)
          .length;
  return {
    kind,
    messages: options.messages,
    outage,
    probeIntervalSeconds,
    maxProbeIntervalSeconds,
    maxAgeSeconds,
    completed: report.messages.completed,
    deadLettered: report.messages.deadLettered,
    lost: report.messages.lost,
    pending: report.messages.pending ?? 0,
    completedTwice: report.checks.completedTwice.length + report.vendor.duplicateSuccesses.length,
    callsWhileOpen: whileOpen.length,
    probesWhileOpen,
    shortestGapBetweenCallsSeconds: gaps.length > 0 ? round(Math.min(...gaps), 1) : null,
    firstCompletionAfterRecoverySeconds: firstAfter === undefined ? null : round(firstAfter - recoveredAt, 1),
    intervalAtRecoverySeconds: lastInterval ?? null,
    lastCompletionAfterRecoverySeconds: lastSeconds === null ? null : round(lastSeconds, 1),
    recoveryIdealSeconds: round(recoveryIdealSeconds, 1),
    recoveryRatio:
      lastSeconds === null || recoveryIdealSeconds === 0
        ? null
        : round(lastSeconds / recoveryIdealSeconds, 3),
    refusedInFirst10Seconds,
    drainMessages: afterRecovery.length,
    drainSeconds: drainSeconds === null ? null : round(drainSeconds, 1),
    drainIdealSeconds: round(drainIdealSeconds, 1),
    drainRatio:
      drainSeconds === null || drainIdealSeconds === 0 ? null : round(drainSeconds / drainIdealSeconds, 3),
    circuit: report.extra.circuit ?? { opened: 0, probes: 0, closed: 0, deferrals: 0 },
    timeline: {
      calls: perFiveSeconds(calls.map((call) => call.t)),
      completions: perFiveSeconds(successes),
      open: openOverTime(events, at(Date.now())),
    },
  };
}

interface LocalReport {
  messages: { completed: number; deadLettered: number; lost: number; pending?: number };
  vendor: { duplicateSuccesses: string[] };
  checks: { completedTwice: string[] };
  run: { handlersLog: string };
  extra: { circuit?: { opened: number; probes: number; closed: number; deferrals: number } };
}

interface CircuitEvent {
  readonly t: number;
  readonly event: string;
  readonly intervalSeconds?: number;
}

/** The circuit's events from the handlers' JSON log lines (Powertools: `timestamp`, `event`). */
function circuitEvents(logFile: string, startedAtMs: number): CircuitEvent[] {
  const events: CircuitEvent[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"circuit.')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const event = String(entry.event ?? entry.message);
      const t = (Date.parse(String(entry.timestamp)) - startedAtMs) / 1000;
      const interval =
        typeof entry.interval_seconds === 'number'
          ? entry.interval_seconds
          : typeof entry.probe_in_seconds === 'number'
            ? entry.probe_in_seconds
            : undefined;
      events.push({
        t,
        event,
        ...(event === 'circuit.probe' || interval === undefined ? {} : { intervalSeconds: interval }),
      });
    } catch {
      // Not a JSON line (the run's own output): skip it.
    }
  }
  return events.sort((a, b) => a.t - b.t);
}

function perFiveSeconds(times: readonly number[]): Array<[number, number]> {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(Math.floor(t / 5) * 5, (counts.get(Math.floor(t / 5) * 5) ?? 0) + 1);
  const end = Math.max(0, ...times);
  return Array.from({ length: Math.floor(end / 5) + 1 }, (_, i) => [i * 5, counts.get(i * 5) ?? 0]);
}

/** 1 while the circuit is open (from an open event to the close), 0 otherwise, per 5 s. */
function openOverTime(events: readonly CircuitEvent[], endSeconds: number): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  let open = false;
  let index = 0;
  for (let t = 0; t <= endSeconds; t += 5) {
    while (index < events.length && (events[index]?.t ?? Infinity) < t + 5) {
      const event = events[index]?.event;
      if (event === 'circuit.opened' || event === 'circuit.reopened') open = true;
      if (event === 'circuit.closed') open = false;
      index += 1;
    }
    points.push([t, open ? 1 : 0]);
  }
  return points;
}

function stackConfig(
  probeIntervalSeconds: number,
  maxProbeIntervalSeconds: number,
  backoffAfterSeconds: number,
  maxAgeSeconds: number,
): object {
  return {
    $comment: 'Written by bench/stages/outage.ts: the booking vendor at 5 requests/s behind an outage.',
    stage: 'local',
    lambdaTimeoutSeconds: 30,
    batchSize: 10,
    maxReceiveCount: 10,
    vendorSecretName: 'sluice/bench/api-key',
    buckets: [
      // In the vendor's own words, as the docs advise (the simulator is this token bucket): the
      // derivation keeps one call of margin for arrival jitter, so the burst at resume fits.
      {
        dimension: 'waitwhile#rps',
        vendorLimit: {
          requests: RATE_PER_SECOND,
          perSeconds: 1,
          counting: 'token-bucket',
          burst: RATE_PER_SECOND,
        },
      },
    ],
    vendor: {
      name: 'waitwhile',
      baseUrl: 'https://vendor.invalid',
      allowedPaths: ['/locations'],
      requestTimeoutMs: 5_000,
      operations: {
        createVisit: {
          method: 'POST',
          path: '/locations/{locationId}/visits',
          dimensions: { 'waitwhile#rps': 1 },
        },
      },
      policy: { maxAgeSeconds },
      circuit: { probeIntervalSeconds, maxProbeIntervalSeconds, backoffAfterSeconds },
    },
  };
}
