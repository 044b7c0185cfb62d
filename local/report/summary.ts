import type { OutcomesReport } from '../outcomes/collector';
import type { RunReport } from './report';

/** The closing table `npm start` prints: the run's report (report.ts), aligned for a terminal. */
export function summaryTable(report: RunReport): string {
  const reasons = new Map<string, number>();
  const details = new Map<string, string>();
  for (const entry of Object.values(report.byId)) {
    if (!entry.dlqReason) continue;
    reasons.set(entry.dlqReason, (reasons.get(entry.dlqReason) ?? 0) + 1);
    if (entry.dlqDetail && !details.has(entry.dlqReason)) details.set(entry.dlqReason, entry.dlqDetail);
  }
  const refusals = Object.entries(report.vendor.refusalsByStatus)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
  const { messages } = report;
  const rows: [string, string][] = [
    [
      'messages',
      `${messages.total}${messages.fromProducers ? ` (${messages.fromProducers} from producers)` : ''}`,
    ],
    ['completed', String(messages.completed)],
    [
      'dead-lettered',
      `${messages.deadLettered}${reasons.size ? ` (${[...reasons].map(([r, n]) => `${r} ${n}${details.has(r) ? `, e.g. ${details.get(r)}` : ''}`).join('; ')})` : ''}`,
    ],
    ...(messages.pending > 0
      ? ([['pending', `${messages.pending} (still on the queue when the run stopped)`]] as [string, string][])
      : []),
    ['lost', String(messages.lost)],
    ['vendor calls', `${report.vendor.calls}${refusals ? `, refused ${refusals}` : ''}`],
    ['grants', String(report.vendor.grants)],
    ...report.vendor.failures.map((failure): [string, string] => [
      'no answer',
      `${failure.cause} at ${failure.url} ×${failure.count}`,
    ]),
    [
      'requeues / inline waits / penalties',
      `${report.requeues} / ${report.inlineWaits} / ${report.penalties}`,
    ],
    ...(report.extra.circuit
      ? ([
          [
            'vendor circuit',
            `opened ${report.extra.circuit.opened}, probes ${report.extra.circuit.probes}, closed ${report.extra.circuit.closed}, ${report.extra.circuit.deferrals} deferrals (attempts kept)`,
          ],
        ] as [string, string][])
      : []),
    [
      'DynamoDB requests / RCU / WCU',
      `${report.dynamodb.requests} / ${report.dynamodb.rcu} / ${report.dynamodb.wcu}${perCompleted(report)}`,
    ],
    ...Object.entries(report.dynamodb.byPurpose).map(([purpose, usage]): [string, string] => [
      `  ${purpose}`,
      `${usage.requests} / ${usage.rcu} / ${usage.wcu}`,
    ]),
    ...(report.dynamodb.largestItems.length > 0
      ? ([
          [
            'largest items',
            report.dynamodb.largestItems
              .map((item) => `${item.kind} ${item.key} ${item.bytes} B (of ${item.items})`)
              .join(', '),
          ],
        ] as [string, string][])
      : []),
    ...outcomeRows(report.outcomes),
    ...productRows(report.products),
    ['makespan', `${report.makespanSeconds} s`],
    [
      'result',
      report.checks.ok
        ? 'OK: nothing lost, nothing completed twice'
        : `${onlyPending(report) ? 'INCOMPLETE' : 'FAILED'}: ${report.checks.problems.join('; ')}`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n');
}

function perCompleted(report: RunReport): string {
  const per = report.dynamodb.perCompleted;
  return per ? ` (${per.requests} / ${per.rcu} / ${per.wcu} per completed message)` : '';
}

/** Per product: its grants, what they took from its share and from the common part, its longest wait. */
function productRows(products: RunReport['products']): [string, string][] {
  if (!products) return [];
  const line = Object.entries(products)
    .map(
      ([name, p]) =>
        `${name} ${p.grants} grants (units: ${p.fromShare} from its share, ${p.fromCommon} common), longest wait ${p.maxAgeSeconds} s`,
    )
    .join('; ');
  return [['by product', line]];
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

/** Nothing went wrong but time: the run stopped with messages still pending. */
function onlyPending(report: RunReport): boolean {
  return report.checks.problems.length === 1 && report.messages.pending > 0;
}
