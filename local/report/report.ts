import { writeFileSync } from 'node:fs';
import type { DynamoDbUsage, PurposeUsage } from '../aws/dynamodb-meter';
import type { LargestItem } from '../aws/item-sizes';
import type { OutcomesFindings, OutcomesReport } from '../outcomes/collector';
import type { Tally } from './tally';

/**
 * `pending`: not finished when the run stopped before the queue drained (Ctrl-C, or
 * `--max-run-seconds`): still on the queue or in the running invocation, not lost.
 * `lost`: not finished although the queue drained.
 */
export type FinalState = 'completed' | 'deadLettered' | 'pending' | 'lost';

/** How the run ended: the queue drained, or it was stopped first. */
export type RunEnd = 'drained' | 'interrupted' | 'time-limit';

/** The `--report` JSON. */
export interface RunReport {
  readonly messages: {
    total: number;
    completed: number;
    deadLettered: number;
    pending: number;
    lost: number;
    /** Of `total`, the messages producers sent while the stack served (`--serve`). */
    fromProducers: number;
  };
  readonly byId: Record<
    string,
    { state: FinalState; attempts: number; dlqReason?: string; dlqDetail?: string; fromProducer?: true }
  >;
  readonly vendor: {
    calls: number;
    /** Grants the worker received; every vendor call needs one (a cache hit needs neither). */
    grants: number;
    refusalsByStatus: Record<string, number>;
    /** Calls that got no HTTP answer, by cause and vendor URL (`no-answer` in refusalsByStatus). */
    failures: { cause: string; url: string; count: number }[];
    /** Ids the vendor answered 2xx for more than once: must stay empty. */
    duplicateSuccesses: string[];
  };
  readonly requeues: number;
  readonly inlineWaits: number;
  readonly penalties: number;
  readonly makespanSeconds: number;
  readonly dynamodb: {
    requests: number;
    rcu: number;
    wcu: number;
    /** Requests, RCU and WCU by purpose (local/aws/dynamodb-meter.ts), largest WCU first. */
    byPurpose: Record<string, PurposeUsage>;
    /** Per completed message: the figures to compare runs by (none completed: absent). */
    perCompleted?: { requests: number; rcu: number; wcu: number };
    /** The largest bucket item, idempotency record and circuit item at the end of the run. */
    largestItems: readonly LargestItem[];
  };
  /** What each product's queue received (present when the configuration lists products). */
  readonly outcomes?: OutcomesReport;
  /**
   * By product, when messages named products: grants, units taken from its share and from the
   * common part (summed over the buckets), and the longest end-to-end wait of its messages.
   */
  readonly products?: Record<
    string,
    { grants: number; fromShare: number; fromCommon: number; maxAgeSeconds: number }
  >;
  readonly run: {
    profile: string;
    chaos: boolean;
    vendorUrl: string;
    config: string;
    serve?: boolean;
    end?: RunEnd;
    /** Where the handlers' JSON logs went. */
    handlersLog?: string;
  };
  /** Ids completed more than once by the worker: must stay empty. */
  readonly checks: { ok: boolean; problems: string[]; completedTwice: string[] };
  readonly extra: {
    invocations: Record<string, number>;
    duplicatesSkipped: number;
    reconcilerRuns: number;
    reconcilerFailures: number;
    reclaimedLeases: number;
    chaos: Record<string, number>;
    /** The vendor circuit: opened (or reopened), probes, closed, messages deferred. */
    circuit?: { opened: number; probes: number; closed: number; deferrals: number };
  };
}

/** Answers a retry cannot change: the vendor refuses the request itself (404, 401, 400 ...). */
export function isPermanentRefusal(status: string): boolean {
  const code = Number(status);
  return code >= 400 && code < 500 && ![408, 409, 425, 429].includes(code);
}

/** What a finished run hands the report. */
export interface ReportInput {
  readonly ids: readonly string[];
  /** Ids that producers sent while the stack served; part of `ids`. */
  readonly fromProducers?: ReadonlySet<string>;
  readonly tally: Tally;
  readonly makespanSeconds: number;
  readonly dynamodb: DynamoDbUsage;
  readonly largestItems?: readonly LargestItem[];
  /** Ctrl-C or the time limit: unfinished messages are pending, not lost; the run still fails. */
  readonly end?: RunEnd;
  /** With `end: 'time-limit'`, the limit, for the verdict. */
  readonly maxRunSeconds?: number;
  /** The simulator's own 2xx count per idempotency key, a second witness to the fetch's. */
  readonly simulatorSuccesses?: Readonly<Record<string, number>>;
  /** The products' outcome queues, read after the run (local/outcomes/collector.ts). */
  readonly outcomes?: OutcomesFindings;
  readonly run: RunReport['run'];
}

/**
 * Every message ends exactly once: completed (the worker said so), dead-lettered (found in
 * the DLQ with a reason), pending (the run stopped before the queue drained) or lost. A
 * message found in both counts as completed, because the vendor call happened; the DLQ copy
 * is a duplicate delivery the check flags.
 */
export function buildReport(input: ReportInput): RunReport {
  const { ids, tally } = input;
  const end = input.end ?? 'drained';
  const fromProducers = input.fromProducers ?? new Set<string>();
  const { byId, counts, problems } = messageFates(ids, tally, end, fromProducers);
  const completedTwice = idsAbove(tally.completions, 1);
  const duplicateSuccesses = duplicateVendorSuccesses(tally, input.simulatorSuccesses);
  problems.push(
    ...strayDeadLetters(ids, tally),
    ...unfinishedProblems(counts, byId, end, input.maxRunSeconds),
    ...vendorProblems(tally),
    ...(completedTwice.length > 0 ? [`completed twice: ${completedTwice.join(', ')}`] : []),
    ...outcomeProblems(input.outcomes, counts.pending > 0),
    ...(duplicateSuccesses.length > 0
      ? [`vendor called successfully twice: ${duplicateSuccesses.join(', ')}`]
      : []),
  );
  return {
    messages: {
      total: ids.length,
      ...counts,
      fromProducers: ids.filter((id) => fromProducers.has(id)).length,
    },
    byId,
    vendor: {
      calls: tally.vendorCalls,
      grants: tally.grants,
      refusalsByStatus: Object.fromEntries(tally.refusalsByStatus),
      failures: [...tally.vendorFailures.values()].map((failure) => ({ ...failure })),
      duplicateSuccesses,
    },
    requeues: tally.requeues,
    inlineWaits: tally.inlineWaits,
    penalties: tally.penalties,
    makespanSeconds: Math.round(input.makespanSeconds * 10) / 10,
    dynamodb: dynamodbFigures(input.dynamodb, counts.completed, input.largestItems ?? []),
    ...(input.outcomes ? { outcomes: input.outcomes.outcomes } : {}),
    ...(tally.products.size > 0 ? { products: productFigures(tally) } : {}),
    run: { ...input.run, end },
    checks: { ok: problems.length === 0, problems, completedTwice },
    extra: extraFigures(tally),
  };
}

type MessageCounts = Record<FinalState, number>;

/** Each message's final state; a message both completed and dead-lettered is a problem. */
function messageFates(
  ids: readonly string[],
  tally: Tally,
  end: RunEnd,
  fromProducers: ReadonlySet<string>,
): { byId: RunReport['byId']; counts: MessageCounts; problems: string[] } {
  const byId: RunReport['byId'] = {};
  const counts: MessageCounts = { completed: 0, deadLettered: 0, pending: 0, lost: 0 };
  const problems: string[] = [];
  for (const id of ids) {
    const attempts = tally.deliveries.get(id) ?? 0;
    const dlqReason = tally.deadLettered.get(id);
    const dlqDetail = tally.deadLetterDetails.get(id);
    const state: FinalState = tally.completions.has(id)
      ? 'completed'
      : dlqReason !== undefined
        ? 'deadLettered'
        : end === 'drained'
          ? 'lost'
          : 'pending';
    counts[state] += 1;
    byId[id] = {
      state,
      attempts,
      ...(dlqReason !== undefined ? { dlqReason } : {}),
      ...(dlqDetail !== undefined ? { dlqDetail } : {}),
      ...(fromProducers.has(id) ? { fromProducer: true as const } : {}),
    };
    if (state === 'completed' && dlqReason !== undefined) {
      problems.push(`${id} completed and was also dead-lettered (${dlqReason})`);
    }
  }
  return { byId, counts, problems };
}

/** Dead letters of messages the run never enqueued. */
function strayDeadLetters(ids: readonly string[], tally: Tally): string[] {
  const known = new Set(ids);
  return [...tally.deadLettered.keys()]
    .filter((id) => !known.has(id))
    .map((id) => `the DLQ holds "${id}", which was never enqueued`);
}

/** Messages still pending when the run stopped early, or lost although the queue drained. */
function unfinishedProblems(
  counts: MessageCounts,
  byId: RunReport['byId'],
  end: RunEnd,
  maxRunSeconds: number | undefined,
): string[] {
  const problems: string[] = [];
  if (counts.pending > 0) {
    const why =
      end === 'interrupted'
        ? 'interrupted'
        : `stopped at the time limit of ${maxRunSeconds ?? '?'} s (--max-run-seconds)`;
    problems.push(
      `${why} with ${counts.pending} message(s) still pending on the queue: ${idsIn(byId, 'pending').join(', ')}`,
    );
  }
  if (counts.lost > 0) problems.push(`${counts.lost} message(s) lost: ${idsIn(byId, 'lost').join(', ')}`);
  return problems;
}

/** Every answer a permanent refusal (a wrong URL, key or operation), or a call without a grant. */
function vendorProblems(tally: Tally): string[] {
  const problems: string[] = [];
  const refusals = Object.entries(Object.fromEntries(tally.refusalsByStatus));
  const successes = tally.vendorCalls - refusals.reduce((sum, [, count]) => sum + count, 0);
  if (tally.vendorCalls > 0 && successes === 0 && refusals.every(([status]) => isPermanentRefusal(status))) {
    problems.push(
      `every vendor answer was a permanent refusal (${refusals.map(([status, n]) => `${status}×${n}`).join(' ')}): the vendor refuses these requests; check the vendor URL, the key and the configuration's operations`,
    );
  }
  if (tally.vendorCalls > tally.grants)
    problems.push(
      `${tally.vendorCalls - tally.grants} vendor request(s) without a grant (${tally.vendorCalls} requests, ${tally.grants} grants)`,
    );
  return problems;
}

/** Ids answered 2xx more than once, by the instrumented fetch's count or the simulator's own. */
function duplicateVendorSuccesses(
  tally: Tally,
  simulatorSuccesses: Readonly<Record<string, number>> | undefined,
): string[] {
  const simulatorSeen = new Map(Object.entries(simulatorSuccesses ?? {}));
  return [...new Set([...idsAbove(tally.vendorSuccesses, 1), ...idsAbove(simulatorSeen, 1)])];
}

function productFigures(tally: Tally): NonNullable<RunReport['products']> {
  return Object.fromEntries(
    [...tally.products].map(([name, p]) => [
      name,
      {
        grants: p.grants,
        fromShare: tenths(p.fromShare),
        fromCommon: tenths(p.fromCommon),
        maxAgeSeconds: tenths(p.maxAgeSeconds),
      },
    ]),
  );
}

function extraFigures(tally: Tally): RunReport['extra'] {
  return {
    invocations: Object.fromEntries(tally.invocations),
    duplicatesSkipped: tally.duplicatesSkipped,
    reconcilerRuns: tally.reconcilerRuns,
    reconcilerFailures: tally.reconcilerFailures,
    reclaimedLeases: tally.reclaimedLeases,
    chaos: Object.fromEntries(tally.chaos),
    ...(tally.circuit.opened + tally.circuit.deferrals > 0 ? { circuit: { ...tally.circuit } } : {}),
  };
}

function dynamodbFigures(
  usage: DynamoDbUsage,
  completed: number,
  largestItems: readonly LargestItem[],
): RunReport['dynamodb'] {
  const per = (value: number) => Math.round((value / completed) * 100) / 100;
  const byPurpose = Object.fromEntries(
    Object.entries(usage.byPurpose).sort(([, a], [, b]) => b.wcu - a.wcu || b.requests - a.requests),
  );
  return {
    requests: usage.requests,
    rcu: usage.rcu,
    wcu: usage.wcu,
    byPurpose,
    ...(completed > 0
      ? { perCompleted: { requests: per(usage.requests), rcu: per(usage.rcu), wcu: per(usage.wcu) } }
      : {}),
    largestItems,
  };
}

const tenths = (x: number) => Math.round(x * 10) / 10;

export function writeReport(path: string, report: RunReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * The run is OK only when every expected outcome arrived, each id with one final outcome. A run
 * stopped with messages still pending (Ctrl-C, the time limit) did not wait for outcomes: what
 * has not arrived is part of that incomplete run, shown in the summary, not a failure of its own.
 */
function outcomeProblems(findings: OutcomesFindings | undefined, stoppedEarly: boolean): string[] {
  if (!findings) return [];
  const problems: string[] = [];
  const { missingIds, conflicts } = findings;
  if (missingIds.length > 0 && !stoppedEarly) {
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

function idsAbove(map: ReadonlyMap<string, number>, limit: number): string[] {
  return [...map].filter(([, count]) => count > limit).map(([id]) => id);
}

function idsIn(byId: RunReport['byId'], state: FinalState): string[] {
  const ids = Object.entries(byId)
    .filter(([, entry]) => entry.state === state)
    .map(([id]) => id);
  return ids.length > 10 ? [...ids.slice(0, 10), `... ${ids.length - 10} more`] : ids;
}
