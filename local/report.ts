import { writeFileSync } from 'node:fs';
import type { DynamoDbUsage } from './dynamodb-meter';
import type { OutcomesFindings, OutcomesReport } from './outcomes/collector';
import type { Tally } from './tally';

export type FinalState = 'completed' | 'deadLettered' | 'lost';

/** The `--report` JSON (issue 5 names every top-level field but `run`, `checks` and `extra`). */
export interface RunReport {
  readonly messages: { total: number; completed: number; deadLettered: number; lost: number };
  readonly byId: Record<string, { state: FinalState; attempts: number; dlqReason?: string }>;
  readonly vendor: {
    calls: number;
    refusalsByStatus: Record<string, number>;
    /** Ids the vendor answered 2xx for more than once: must stay empty. */
    duplicateSuccesses: string[];
  };
  readonly requeues: number;
  readonly inlineWaits: number;
  readonly penalties: number;
  readonly makespanSeconds: number;
  readonly dynamodb: { requests: number; rcu: number; wcu: number };
  /** What each product's queue received (present when the configuration lists products). */
  readonly outcomes?: OutcomesReport;
  readonly run: { profile: string; chaos: boolean; vendorUrl: string; config: string };
  /** Ids completed more than once by the worker: must stay empty. */
  readonly checks: { ok: boolean; problems: string[]; completedTwice: string[] };
  readonly extra: {
    invocations: Record<string, number>;
    duplicatesSkipped: number;
    reconcilerRuns: number;
    reconcilerFailures: number;
    reclaimedLeases: number;
    chaos: Record<string, number>;
  };
}

/**
 * Every message ends exactly once: completed (the worker said so), dead-lettered (found in
 * the DLQ with a reason), or lost. A message found in both counts as completed, because
 * the vendor call happened; the DLQ copy is a duplicate delivery the check flags.
 */
export function buildReport(input: {
  readonly ids: readonly string[];
  readonly tally: Tally;
  readonly makespanSeconds: number;
  readonly dynamodb: DynamoDbUsage;
  /** Ctrl-C: unfinished messages are still on the queue, not lost by Sluice; the run still fails. */
  readonly interrupted?: boolean;
  /** The simulator's own 2xx count per idempotency key, a second witness to the fetch's. */
  readonly simulatorSuccesses?: Readonly<Record<string, number>>;
  /** The products' outcome queues, read after the run (local/outcomes/collector.ts). */
  readonly outcomes?: OutcomesFindings;
  readonly run: RunReport['run'];
}): RunReport {
  const { ids, tally } = input;
  const byId: RunReport['byId'] = {};
  const counts = { completed: 0, deadLettered: 0, lost: 0 };
  const problems: string[] = [];
  for (const id of ids) {
    const attempts = tally.deliveries.get(id) ?? 0;
    const dlqReason = tally.deadLettered.get(id);
    const state: FinalState = tally.completions.has(id)
      ? 'completed'
      : dlqReason !== undefined
        ? 'deadLettered'
        : 'lost';
    counts[state] += 1;
    byId[id] = { state, attempts, ...(dlqReason !== undefined ? { dlqReason } : {}) };
    if (state === 'completed' && dlqReason !== undefined) {
      problems.push(`${id} completed and was also dead-lettered (${dlqReason})`);
    }
  }
  const known = new Set(ids);
  for (const id of tally.deadLettered.keys()) {
    if (!known.has(id)) problems.push(`the DLQ holds "${id}", which was never enqueued`);
  }
  const completedTwice = idsAbove(tally.completions, 1);
  const simulatorSeen = new Map(Object.entries(input.simulatorSuccesses ?? {}));
  const duplicateSuccesses = [
    ...new Set([...idsAbove(tally.vendorSuccesses, 1), ...idsAbove(simulatorSeen, 1)]),
  ];
  if (counts.lost > 0 && input.interrupted) {
    problems.push(
      `interrupted before ${counts.lost} message(s) finished (counted as lost): ${lostIds(byId).join(', ')}`,
    );
  } else if (counts.lost > 0) {
    problems.push(`${counts.lost} message(s) lost: ${lostIds(byId).join(', ')}`);
  }
  if (completedTwice.length > 0) problems.push(`completed twice: ${completedTwice.join(', ')}`);
  problems.push(...outcomeProblems(input.outcomes));
  if (duplicateSuccesses.length > 0)
    problems.push(`vendor called successfully twice: ${duplicateSuccesses.join(', ')}`);
  return {
    messages: { total: ids.length, ...counts },
    byId,
    vendor: {
      calls: tally.vendorCalls,
      refusalsByStatus: Object.fromEntries(tally.refusalsByStatus),
      duplicateSuccesses,
    },
    requeues: tally.requeues,
    inlineWaits: tally.inlineWaits,
    penalties: tally.penalties,
    makespanSeconds: Math.round(input.makespanSeconds * 10) / 10,
    dynamodb: { requests: input.dynamodb.requests, rcu: input.dynamodb.rcu, wcu: input.dynamodb.wcu },
    ...(input.outcomes ? { outcomes: input.outcomes.outcomes } : {}),
    run: input.run,
    checks: { ok: problems.length === 0, problems, completedTwice },
    extra: {
      invocations: Object.fromEntries(tally.invocations),
      duplicatesSkipped: tally.duplicatesSkipped,
      reconcilerRuns: tally.reconcilerRuns,
      reconcilerFailures: tally.reconcilerFailures,
      reclaimedLeases: tally.reclaimedLeases,
      chaos: Object.fromEntries(tally.chaos),
    },
  };
}

export function writeReport(path: string, report: RunReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

/** The closing table, aligned for a terminal. */
export function summaryTable(report: RunReport): string {
  const reasons = new Map<string, number>();
  for (const entry of Object.values(report.byId)) {
    if (entry.dlqReason) reasons.set(entry.dlqReason, (reasons.get(entry.dlqReason) ?? 0) + 1);
  }
  const refusals = Object.entries(report.vendor.refusalsByStatus)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
  const rows: [string, string][] = [
    ['messages', String(report.messages.total)],
    ['completed', String(report.messages.completed)],
    [
      'dead-lettered',
      `${report.messages.deadLettered}${reasons.size ? ` (${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')})` : ''}`,
    ],
    ['lost', String(report.messages.lost)],
    ['vendor calls', `${report.vendor.calls}${refusals ? `, refused ${refusals}` : ''}`],
    [
      'requeues / inline waits / penalties',
      `${report.requeues} / ${report.inlineWaits} / ${report.penalties}`,
    ],
    [
      'DynamoDB requests / RCU / WCU',
      `${report.dynamodb.requests} / ${report.dynamodb.rcu} / ${report.dynamodb.wcu}`,
    ],
    ...outcomeRows(report.outcomes),
    ['makespan', `${report.makespanSeconds} s`],
    [
      'result',
      report.checks.ok
        ? 'OK: nothing lost, nothing completed twice'
        : `FAILED: ${report.checks.problems.join('; ')}`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n');
}

/** The run is OK only when every expected outcome arrived, each id with one final outcome. */
function outcomeProblems(findings: OutcomesFindings | undefined): string[] {
  if (!findings) return [];
  const problems: string[] = [];
  const { missingIds, conflicts } = findings;
  if (missingIds.length > 0) {
    const shown =
      missingIds.length > 10
        ? [...missingIds.slice(0, 10), `... ${missingIds.length - 10} more`]
        : missingIds;
    problems.push(`${missingIds.length} outcome(s) never reached their product: ${shown.join(', ')}`);
  }
  if (conflicts.length > 0)
    problems.push(`more than one final outcome, or the wrong product's queue: ${conflicts.join(', ')}`);
  return problems;
}

function outcomeRows(outcomes: OutcomesReport | undefined): [string, string][] {
  if (!outcomes) return [];
  const products = Object.entries(outcomes.byProduct)
    .map(
      ([product, counts]) =>
        `${product} ${counts.completed} completed / ${counts.deadLettered} dead-lettered`,
    )
    .join(', ');
  return [
    [
      'outcomes received',
      `${outcomes.received} of ${outcomes.received + outcomes.missing} (${outcomes.published} published, ${outcomes.claimChecked} claim-checked, ${outcomes.missing} missing)`,
    ],
    ['outcomes by product', products],
  ];
}

function idsAbove(map: ReadonlyMap<string, number>, limit: number): string[] {
  return [...map].filter(([, count]) => count > limit).map(([id]) => id);
}

function lostIds(byId: RunReport['byId']): string[] {
  const lost = Object.entries(byId)
    .filter(([, entry]) => entry.state === 'lost')
    .map(([id]) => id);
  return lost.length > 10 ? [...lost.slice(0, 10), `... ${lost.length - 10} more`] : lost;
}
