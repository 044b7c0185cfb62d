import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart } from '../../local/report/chart';
import type { OutageRun } from '../stages/outage';

export interface OutageResult {
  readonly date: string;
  readonly command: string;
  readonly timeScale: number;
  readonly runs: readonly (OutageRun & { readonly date?: string; readonly command?: string })[];
}

const HEADING = '## The vendor circuit against an outage';

/**
 * `--outage --write`: saves the run (bench/results/outage.json), its charts, and replaces the
 * outage section of bench/RESULTS.md, leaving the other sections as they are (`--render`
 * regenerates the whole file from every saved run).
 */
export function writeOutageOutputs(fresh: OutageResult, benchDir: string): void {
  let result = fresh;
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  mkdirSync(join(benchDir, 'charts'), { recursive: true });
  const saved = join(benchDir, 'results', 'outage.json');
  // A run of one kind (`--outage-only`) replaces that kind and keeps the other, with its own date.
  const stamped = result.runs.map((run) => ({ ...run, date: result.date, command: result.command }));
  const previous = existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as OutageResult) : undefined;
  const kept = (previous?.runs ?? [])
    .filter((run) => !stamped.some((fresh) => fresh.kind === run.kind))
    .map((run) => ({ date: previous?.date, command: previous?.command, ...run }));
  const runs = [...stamped, ...kept].sort((a, b) => a.kind.localeCompare(b.kind));
  result = { ...result, runs };
  writeFileSync(saved, `${JSON.stringify(result, null, 2)}\n`);
  const section = outageMarkdown(result, writeOutageCharts(result, join(benchDir, 'charts')), 'charts/');
  const file = join(benchDir, 'RESULTS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf(HEADING);
  const before = (start < 0 ? text : text.slice(0, start)).trimEnd();
  const rest = start < 0 ? '' : text.slice(start + HEADING.length);
  const next = rest.search(/\n## /);
  const after = next < 0 ? '' : rest.slice(next);
  writeFileSync(file, `${before}\n\n${section.join('\n')}${after}\n`);
  spawnSync(join(benchDir, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
    stdio: 'ignore',
  });
}

export function writeOutageCharts(result: OutageResult, dir: string): string[] {
  return result.runs.map((run) => {
    const name = `outage-${run.kind}.svg`;
    writeFileSync(join(dir, name), outageChart(run));
    return name;
  });
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (row: readonly string[]) => `| ${row.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

const show = (value: number | null | undefined) =>
  value === null || value === undefined ? 'n/a' : String(value);

/** The outage section of bench/RESULTS.md, each figure beside its target. */
export function outageMarkdown(result: OutageResult, charts: readonly string[], prefix: string): string[] {
  const down = result.runs.find((run) => run.kind === 'down');
  const revoked = result.runs.find((run) => run.kind === 'key-revoked');
  const rows: string[][] = [];
  if (down) {
    rows.push(
      ['messages dead-lettered (maxAgeSeconds longer than the outage)', String(down.deadLettered), '0'],
      ['lost / pending at the end', `${down.lost} / ${down.pending}`, '0'],
      ['completed twice', String(down.completedTwice), '0'],
      [
        'vendor calls after the circuit opened, before recovery / probes in that time',
        `${down.callsWhileOpen} / ${down.probesWhileOpen} (shortest gap ${show(down.shortestGapBetweenCallsSeconds)} s, probe interval ${down.probeIntervalSeconds}–${down.maxProbeIntervalSeconds} s)`,
        '≤ 1 per probe interval',
      ],
      [
        'vendor back → first completed message',
        `${show(down.firstCompletionAfterRecoverySeconds)} s (probe interval then ${show(down.intervalAtRecoverySeconds)} s)`,
        '≤ 1 probe interval (30 s at full scale)',
      ],
      [
        'drain after the first completion: makespan ÷ ideal',
        `${show(down.drainRatio)} (${down.drainMessages} messages in ${show(down.drainSeconds)} s, ideal ${down.drainIdealSeconds} s)`,
        '≤ 1.2',
      ],
      [
        'vendor back → last completed message ÷ ideal',
        `${show(down.recoveryRatio)} (${show(down.lastCompletionAfterRecoverySeconds)} s, ideal ${down.recoveryIdealSeconds} s at the bucket's rate from the return)`,
        '',
      ],
      [
        '429s in the 10 s after the first completion (the herd at resume)',
        String(down.refusedInFirst10Seconds ?? 'n/a'),
        '0',
      ],
      [
        'circuit: opened / probes / closed / deferrals',
        `${down.circuit.opened} / ${down.circuit.probes} / ${down.circuit.closed} / ${down.circuit.deferrals}`,
        '',
      ],
    );
  }
  if (revoked) {
    rows.push(
      [
        `key revoked for ${revoked.outage.forSeconds} s: dead-lettered / lost / completed twice`,
        `${revoked.deadLettered} / ${revoked.lost} / ${revoked.completedTwice}`,
        '0 / 0 / 0',
      ],
      [
        'key revoked: key restored → first completed message',
        `${show(revoked.firstCompletionAfterRecoverySeconds)} s (interval then ${show(revoked.intervalAtRecoverySeconds)} s)`,
        '≤ 1 probe interval (30 s at full scale)',
      ],
      [
        'key revoked: 429s in the 10 s after the first completion',
        String(revoked.refusedInFirst10Seconds ?? 'n/a'),
        '0',
      ],
    );
  }
  const scaled =
    result.timeScale === 1
      ? 'at full scale (the outage of the issue: 10 minutes from t = 30 s)'
      : `with the outage's length and the probe intervals multiplied by ${result.timeScale} (the start is not): a shortened run, not the 10-minute one`;
  const first = down ?? revoked;
  return [
    HEADING,
    '',
    ...result.runs.map(
      (run) =>
        `- \`${run.kind}\`: \`${run.command ?? result.command}\`, finished ${run.date ?? result.date}.`,
    ),
    `- Run ${scaled}.`,
    ...(first
      ? [
          `- ${first.messages} messages queued at once; the booking vendor simulator at 5 requests/s (20 ms a call), the bucket the same;`,
          `  vendor down (every connection dropped) from ${down?.outage.fromSeconds ?? '-'} s for ${down?.outage.forSeconds ?? '-'} s; maxAgeSeconds ${first.maxAgeSeconds}.`,
        ]
      : []),
    "- Times are from the simulator's start, which comes a few seconds before the local stack has booted; the machine is",
    '  shared (2 cores, four other engineers running tests).',
    '',
    ...table(['figure', 'measured', 'target'], rows),
    '',
    ...charts.flatMap((chart) => [`![${chart}](${prefix}${chart})`, '']),
  ];
}

/** The chart of one run: calls and completions per 5 s, and the circuit open (scaled to the calls). */
export function outageChart(run: OutageRun): string {
  const peak = Math.max(1, ...run.timeline.calls.map(([, n]) => n));
  return lineChart({
    title: `Vendor ${run.kind === 'down' ? 'down' : 'key revoked'} from ${run.outage.fromSeconds} s for ${run.outage.forSeconds} s: ${run.messages} messages`,
    xLabel: 'seconds since the vendor started',
    yLabel: 'per 5 s',
    series: [
      { name: 'vendor calls', color: '#1f77b4', points: run.timeline.calls, steps: true },
      { name: 'completions', color: '#2ca02c', points: run.timeline.completions, steps: true },
      {
        name: 'circuit open',
        color: '#d62728',
        points: run.timeline.open.map(([t, open]) => [t, open * peak] as [number, number]),
        steps: true,
      },
    ],
  });
}
