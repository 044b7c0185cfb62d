import type { ContestantName } from '../contestants/contestant';
import type { ContestantResult, SuiteResult } from '../stages/suite';

export const COLUMNS: readonly ContestantName[] = ['sluiceAws', 'documentedSluice', 'rateLimiterFlexible'];

interface Row {
  readonly figure: string;
  readonly target: string;
  readonly value: (result: ContestantResult) => string;
}

const n = (value: number | undefined, digits = 3): string =>
  value === undefined || Number.isNaN(value) ? 'n/a' : String(Number(value.toFixed(digits)));

const ROWS: readonly Row[] = [
  { figure: 'requests / grant (1 dim)', target: '≤ 1.05', value: (r) => n(r.single?.requestsPerGrant) },
  { figure: 'RCU / grant (1 dim)', target: '0', value: (r) => n(r.single?.rcuPerGrant) },
  { figure: 'WCU / grant (1 dim)', target: '≤ 1', value: (r) => n(r.single?.wcuPerGrant) },
  { figure: 'requests / grant (rpm + tpm)', target: '1', value: (r) => n(r.multi?.requestsPerGrant) },
  { figure: 'RCU / grant (rpm + tpm)', target: '', value: (r) => n(r.multi?.rcuPerGrant) },
  { figure: 'WCU / grant (rpm + tpm)', target: '≤ 2', value: (r) => n(r.multi?.wcuPerGrant) },
  {
    figure: 'contention: admitted / allowed units',
    target: '',
    value: (r) => (r.contention ? `${r.contention.admittedUnits} / ${r.contention.allowedUnits}` : 'n/a'),
  },
  {
    figure: 'contention: over-admission (whole run)',
    target: '0',
    value: (r) => n(r.contention?.overAdmission, 1),
  },
  {
    figure: 'contention: worst excess in any interval',
    target: '0',
    value: (r) => n(r.contention?.worstIntervalExcess, 1),
  },
  {
    figure: 'contention: demand achieved (attempts/s)',
    target: '150',
    value: (r) => n(r.contention?.achievedDemandPerSecond, 1),
  },
  { figure: 'contention: utilization', target: '≥ 0.95', value: (r) => n(r.contention?.utilization) },
  {
    figure: 'contention: WCU spent on refused attempts',
    target: '',
    value: (r) =>
      r.contention ? `${n(r.contention.wcuOnRejected, 1)} (${r.contention.rejectedAttempts} refused)` : 'n/a',
  },
  {
    figure: 'contention: refusals that met a failed conditional write',
    target: '',
    value: (r) => (r.contention ? String(r.contention.refusedAfterConflict) : 'n/a'),
  },
  {
    figure: 'boundary burst: granted in waves at 0.9 s / 1.05 s',
    target: '',
    value: (r) => (r.burst ? `${r.burst.grantedFirstWave} + ${r.burst.grantedSecondWave}` : 'n/a'),
  },
  {
    figure: 'boundary burst: worst excess in any interval',
    target: '0',
    value: (r) => n(r.burst?.worstIntervalExcess, 1),
  },
  {
    figure: 'rpm units charged for refused rpm+tpm attempts',
    target: '0',
    value: (r) => (r.charged ? `${r.charged.rpmUnitsChargedForRejected} of ${r.charged.rpmCapacity}` : 'n/a'),
  },
  { figure: 'acquire p50 (ms)', target: '', value: (r) => n(r.latency?.p50Ms, 2) },
  { figure: 'acquire p99 (ms)', target: '', value: (r) => n(r.latency?.p99Ms, 2) },
  { figure: 'p50 / plain UpdateItem p50', target: '≤ 1.3', value: (r) => n(r.latency?.ratioP50, 2) },
  { figure: 'p99 / plain UpdateItem p99', target: '', value: (r) => n(r.latency?.ratioP99, 2) },
  { figure: 'USD / million messages (1 dim)', target: '', value: (r) => n(r.costPerMillion?.single, 4) },
  { figure: 'USD / million messages (rpm + tpm)', target: '', value: (r) => n(r.costPerMillion?.multi, 4) },
];

function cells(suite: SuiteResult): string[][] {
  return ROWS.map((row) => [
    row.figure,
    row.target,
    ...COLUMNS.map((name) => {
      const result = suite.contestants[name];
      return result ? row.value(result) : 'not run';
    }),
  ]);
}

const HEADER = ['figure', 'target (SDK)', 'Sluice for AWS', 'documented Sluice', 'rate-limiter-flexible'];

export function textTable(suite: SuiteResult): string {
  const rows = [HEADER, ...cells(suite)];
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')).join('\n');
}

export function markdownTable(suite: SuiteResult): string {
  const line = (row: readonly string[]) => `| ${row.join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...cells(suite).map(line)].join('\n');
}
