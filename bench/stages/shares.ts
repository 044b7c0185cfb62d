import {
  type AcquireRequest,
  type BucketDefinition,
  MemoryBucketStore,
  SluiceClient,
} from '../../lambda/sluice';
import { lineChart } from '../../local/report/chart';
import type { DrainFigures } from './drain';

/**
 * `npm run bench -- --shares`: fair shares at admission (docs/design.md, "Fair shares"), on a
 * simulated clock through the SDK's own plan on the memory store (the plan the DynamoDB store
 * applies too), so the figures are the algorithm's, not this machine's. Each product is served as
 * the worker serves it behind fair queues: its messages visible, one line per product, each line's
 * head acquiring when its wait says (docs/worker.md, "Fair shares"). `fcfs` runs serve the queue
 * in order with one line, as before shares.
 */

export interface ProductLoad {
  readonly product: string;
  readonly messages: number;
  /** When its messages are there, seconds after the start. @default 0 */
  readonly fromSeconds?: number;
  /** Bursts: on for `onSeconds`, off for `offSeconds` (no demand), repeated. @default always on */
  readonly burst?: { readonly onSeconds: number; readonly offSeconds: number };
}

export interface ShareScenario {
  readonly name: string;
  readonly vendor: 'booking' | 'openai';
  readonly shares?: Readonly<Record<string, number>>;
  readonly loads: readonly ProductLoad[];
  /** Serve the queue in order with one line (no shares, no fair queue). */
  readonly fcfs?: boolean;
}

/** A simulated run on the memory store: no DynamoDB figures. */
export interface ShareRun extends Omit<DrainFigures, 'dynamodb'> {
  readonly name: string;
  readonly limitPerSecond: number;
  /** Per product: messages done, when its last was done, and its share of grants while all were backlogged. */
  readonly products: Readonly<
    Record<
      string,
      {
        readonly completed: number;
        readonly doneAtSeconds: number;
        readonly backloggedShare: number | null;
        readonly firstGrantAfterArrivalSeconds: number;
        /** Arriving after the start: its part of all grants from 2 s after its arrival to the end of its first burst (or 10 s). */
        readonly shareFrom2sAfterArrival: number | null;
      }
    >
  >;
  /** Grants over the limit's rate while at least one product had messages waiting. */
  readonly utilisation: number;
  readonly duplicates: number;
  /** Grants per second, by product, for the chart. */
  readonly perSecond: Readonly<Record<string, readonly number[]>>;
}

export interface SharesResult {
  readonly ran: true;
  readonly runs: readonly ShareRun[];
}

const VENDORS: Record<
  ShareScenario['vendor'],
  { buckets: BucketDefinition[]; request: AcquireRequest; ratePerSecond: number; burst: number }
> = {
  // A booking API at 3 requests per second, a burst of 3.
  booking: {
    buckets: [{ dimension: 'booking#rps', limitType: 'requests', capacity: 3, windowSeconds: 1 }],
    request: 'booking#rps',
    ratePerSecond: 3,
    burst: 3,
  },
  // OpenAI-like: 500 rpm and 40,000 tpm, 260 tokens a call: the tpm limit binds (2.56 calls/s).
  openai: {
    buckets: [
      { dimension: 'openai#rpm', limitType: 'requests', capacity: 500, windowSeconds: 60 },
      { dimension: 'openai#tpm', limitType: 'tokens', capacity: 40_000, windowSeconds: 60 },
    ],
    request: { 'openai#rpm': 1, 'openai#tpm': 260 },
    ratePerSecond: 40_000 / 260 / 60,
    burst: Math.floor(40_000 / 260),
  },
};

export const SHARE_SCENARIOS: readonly ShareScenario[] = [
  {
    name: 'booking, 150 batch ahead of 30 checkout, FCFS (before)',
    vendor: 'booking',
    fcfs: true,
    loads: [
      { product: 'batch', messages: 150 },
      { product: 'checkout', messages: 30 },
    ],
  },
  {
    name: 'booking, 150 batch ahead of 30 checkout, shares 0.75 / 0.25',
    vendor: 'booking',
    shares: { checkout: 0.75, batch: 0.25 },
    loads: [
      { product: 'batch', messages: 150 },
      { product: 'checkout', messages: 30 },
    ],
  },
  {
    name: 'booking, 150 batch ahead of 30 checkout, equal shares (names only)',
    vendor: 'booking',
    shares: { checkout: 0.5, batch: 0.5 },
    loads: [
      { product: 'batch', messages: 150 },
      { product: 'checkout', messages: 30 },
    ],
  },
  {
    name: 'booking, three products backlogged, 0.5 / 0.3 / 0.2',
    vendor: 'booking',
    shares: { a: 0.5, b: 0.3, c: 0.2 },
    loads: [
      { product: 'a', messages: 300 },
      { product: 'b', messages: 300 },
      { product: 'c', messages: 300 },
    ],
  },
  {
    name: 'openai, two products backlogged, 0.5 / 0.5',
    vendor: 'openai',
    shares: { a: 0.5, b: 0.5 },
    loads: [
      { product: 'a', messages: 500 },
      { product: 'b', messages: 500 },
    ],
  },
  {
    name: 'openai, three products backlogged, 0.5 / 0.3 / 0.2',
    vendor: 'openai',
    shares: { a: 0.5, b: 0.3, c: 0.2 },
    loads: [
      { product: 'a', messages: 500 },
      { product: 'b', messages: 500 },
      { product: 'c', messages: 500 },
    ],
  },
  {
    name: 'openai, b arrives at 120 s behind a 10x backlog of a, then bursts; 0.5 / 0.5',
    vendor: 'openai',
    shares: { a: 0.5, b: 0.5 },
    loads: [
      { product: 'a', messages: 1_000 },
      { product: 'b', messages: 100, fromSeconds: 120, burst: { onSeconds: 20, offSeconds: 20 } },
    ],
  },
];

const T0 = 1_700_000_000_000;

export async function runSharesStage(progress: (line: string) => void): Promise<SharesResult> {
  const runs: ShareRun[] = [];
  for (const scenario of SHARE_SCENARIOS) {
    progress(`shares: ${scenario.name}`);
    runs.push(await runScenario(scenario));
  }
  return { ran: true, runs };
}

async function runScenario(scenario: ShareScenario): Promise<ShareRun> {
  const vendor = VENDORS[scenario.vendor];
  let now = T0;
  const client = new SluiceClient({
    settings: {
      tableName: 'memory',
      leaseTtlSeconds: 60,
      maxRetries: 3,
      defaultSlotTimeoutSeconds: 30,
      inlineRetryThresholdSeconds: 5,
      logLevel: 'ERROR',
    },
    store: new MemoryBucketStore(),
    clock: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      now += ms;
    },
  });
  await client.upsertBuckets(
    vendor.buckets.map((b) =>
      scenario.shares && b.limitType !== 'concurrent' ? { ...b, shares: scenario.shares } : b,
    ),
  );
  const loads = scenario.fcfs ? [{ product: 'queue', messages: 0 }] : scenario.loads;
  // The queue in order (FCFS) or each product's own messages (fair queues, a line per product).
  const pending = new Map<string, string[]>();
  if (scenario.fcfs) {
    pending.set(
      'queue',
      scenario.loads.flatMap((l) => Array.from({ length: l.messages }, (_, i) => `${l.product}:${i}`)),
    );
  } else {
    for (const l of scenario.loads)
      pending.set(
        l.product,
        Array.from({ length: l.messages }, (_, i) => `${l.product}:${i}`),
      );
  }
  const present = (load: ProductLoad | { product: string }, atMs: number) => {
    const spec = scenario.loads.find((l) => l.product === load.product);
    if (!spec) return true;
    const t = (atMs - T0) / 1000 - (spec.fromSeconds ?? 0);
    if (t < 0) return false;
    if (!spec.burst) return true;
    return t % (spec.burst.onSeconds + spec.burst.offSeconds) < spec.burst.onSeconds;
  };
  const next = new Map(loads.map((l) => [l.product, T0 + ((l as ProductLoad).fromSeconds ?? 0) * 1000]));
  const done: { id: string; product: string; atMs: number }[] = [];
  const horizonMs = T0 + 3_600_000;
  for (;;) {
    let pick: string | undefined;
    for (const l of loads) {
      if ((pending.get(l.product)?.length ?? 0) === 0) continue;
      if (pick === undefined || next.get(l.product)! < next.get(pick)!) pick = l.product;
    }
    if (pick === undefined || next.get(pick)! > horizonMs) break;
    now = Math.max(now, next.get(pick)!);
    if (!present({ product: pick }, now)) {
      next.set(pick, now + 100);
      continue;
    }
    const id = pending.get(pick)![0]!;
    const product = id.split(':')[0]!;
    const answer = await client.acquire(vendor.request, { product });
    if (answer.outcome === 'Granted') {
      pending.get(pick)!.shift();
      done.push({ id, product, atMs: now });
      next.set(pick, now + 1);
    } else {
      next.set(pick, now + Math.max(1, Math.ceil(answer.waitSeconds * 1000)));
    }
  }
  return figures(scenario, vendor, done);
}

function figures(
  scenario: ShareScenario,
  vendor: (typeof VENDORS)[keyof typeof VENDORS],
  done: readonly { id: string; product: string; atMs: number }[],
): ShareRun {
  const messages = scenario.loads.reduce((sum, l) => sum + l.messages, 0);
  const ids = new Set(done.map((d) => d.id));
  const seconds = (ms: number) => (ms - T0) / 1000;
  const makespanSeconds = done.length ? seconds(done.at(-1)!.atMs) : 0;
  const idealSeconds = Math.max(0, (messages - vendor.burst) / vendor.ratePerSecond);
  const products: Record<string, ShareRun['products'][string]> = {};
  // All backlogged: from the last arrival plus 2 s to the first product's last grant.
  const lastArrival = Math.max(...scenario.loads.map((l) => l.fromSeconds ?? 0));
  const firstDone = Math.min(
    ...scenario.loads.map((l) =>
      seconds(Math.max(...done.filter((d) => d.product === l.product).map((d) => d.atMs))),
    ),
  );
  const from = lastArrival + Math.max(2, vendor.burst / vendor.ratePerSecond);
  const inWindow = done.filter((d) => seconds(d.atMs) >= from && seconds(d.atMs) < firstDone);
  const anyBurst = scenario.loads.some((l) => l.burst);
  for (const l of scenario.loads) {
    const own = done.filter((d) => d.product === l.product);
    const firstAfter = own.find((d) => seconds(d.atMs) >= (l.fromSeconds ?? 0));
    products[l.product] = {
      completed: own.length,
      doneAtSeconds: own.length ? seconds(own.at(-1)!.atMs) : 0,
      backloggedShare:
        !anyBurst && firstDone > from && inWindow.length > 0
          ? inWindow.filter((d) => d.product === l.product).length / inWindow.length
          : null,
      firstGrantAfterArrivalSeconds: firstAfter ? seconds(firstAfter.atMs) - (l.fromSeconds ?? 0) : -1,
      shareFrom2sAfterArrival: arrivalShare(l, done, seconds),
    };
  }
  const perSecond: Record<string, number[]> = {};
  const length = Math.ceil(makespanSeconds) + 1;
  for (const l of scenario.loads) perSecond[l.product] = Array.from({ length }, () => 0);
  for (const d of done) perSecond[d.product]![Math.floor(seconds(d.atMs))]! += 1;
  const steady = done.filter((d) => seconds(d.atMs) >= vendor.burst / vendor.ratePerSecond);
  const busySeconds = makespanSeconds - vendor.burst / vendor.ratePerSecond;
  return {
    name: scenario.name,
    limitPerSecond: vendor.ratePerSecond,
    messages,
    completed: ids.size,
    deadLettered: 0,
    lost: messages - ids.size,
    duplicates: done.length - ids.size,
    makespanSeconds,
    idealSeconds,
    makespanRatio: idealSeconds > 0 ? makespanSeconds / idealSeconds : 1,
    utilisation: busySeconds > 0 ? steady.length / (busySeconds * vendor.ratePerSecond) : 1,
    products,
    perSecond,
  };
}

function arrivalShare(
  load: ProductLoad,
  done: readonly { product: string; atMs: number }[],
  seconds: (ms: number) => number,
): number | null {
  if (!load.fromSeconds) return null;
  const from = load.fromSeconds + 2;
  const to = load.fromSeconds + (load.burst?.onSeconds ?? 12);
  const inWindow = done.filter((d) => seconds(d.atMs) >= from && seconds(d.atMs) < to);
  return inWindow.length ? inWindow.filter((d) => d.product === load.product).length / inWindow.length : null;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** The chart: admitted per second, by product, for one run. */
export function sharesChart(run: ShareRun): string {
  return lineChart({
    title: run.name,
    xLabel: 'seconds',
    yLabel: 'grants per second',
    series: Object.entries(run.perSecond).map(([product, counts], i) => ({
      name: product,
      color: COLORS[i % COLORS.length]!,
      points: counts.map((c, s) => [s, c] as const),
      steps: true,
    })),
    references: [{ label: 'limit', y: run.limitPerSecond }],
  });
}

export function sharesMarkdown(result: SharesResult, charts: readonly string[], prefix: string): string[] {
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
  const lines = [
    '## Fair shares (`npm run bench -- --shares`)',
    '',
    'Simulated clock, the SDK’s own plan on the memory store (the plan the DynamoDB store applies), each product served as behind fair queues (its messages visible, a line per product); FCFS serves the queue in order with one line. Ideal: the messages beyond the burst at the limit’s rate.',
    '',
    '| run | messages | lost | twice | makespan s | ideal s | ratio | utilisation | per product: done at s, share while all backlogged, first grant after arrival s, share from 2 s after arrival |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.runs.map((r) => {
      const per = Object.entries(r.products)
        .map(
          ([p, f]) =>
            `${p}: ${f.doneAtSeconds.toFixed(1)}, ${pct(f.backloggedShare)}, ${f.firstGrantAfterArrivalSeconds.toFixed(2)}, ${pct(f.shareFrom2sAfterArrival)}`,
        )
        .join('; ');
      return `| ${r.name} | ${r.messages} | ${r.lost} | ${r.duplicates} | ${r.makespanSeconds.toFixed(1)} | ${r.idealSeconds.toFixed(1)} | ${r.makespanRatio.toFixed(3)} | ${pct(r.utilisation)} | ${per} |`;
    }),
    '',
    ...targetLines(result),
    '',
    ...charts.map((c) => `![${c}](${prefix}${c})`),
    '',
  ];
  return lines;
}

/** The targets, each judged from the saved runs. */
function targetLines(result: SharesResult): string[] {
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  const runs = result.runs;
  const byName = (part: string) => runs.find((r) => r.name.includes(part));
  const deviations = runs.flatMap((run) => {
    const scenario = SHARE_SCENARIOS.find((s) => s.name === run.name);
    return Object.entries(run.products).flatMap(([p, f]) => {
      const share = scenario?.shares?.[p];
      return share === undefined || f.backloggedShare === null
        ? []
        : [Math.abs(f.backloggedShare - share) / share];
    });
  });
  const worst = Math.max(...deviations);
  const shared = runs.filter((r) => !r.name.includes('FCFS'));
  const minUtil = Math.min(...shared.map((r) => r.utilisation));
  const arrival = byName('arrives');
  const arrived = arrival?.products.b;
  const weighted = byName('0.75 / 0.25');
  const equal = byName('equal shares');
  const lost = runs.reduce((sum, r) => sum + r.lost + r.duplicates, 0);
  const worstRatio = Math.max(...shared.map((r) => r.makespanRatio));
  return [
    'Targets (simulated clock: the algorithm’s figures, the same on any machine; the worker’s and the queue’s own delays are not in them):',
    '',
    `- While all are backlogged, each product’s admitted share within ±5 % of its share: largest deviation ${(worst * 100).toFixed(1)} % of the share: ${verdict(worst <= 0.05)}.`,
    `- Idle shares used by the others: utilisation at least ${(minUtil * 100).toFixed(1)} % of the limit in every run with shares: ${verdict(minUtil >= 0.95)}.`,
    `- A product arriving behind a 10x backlog reaches its share within 2 s: first grant ${arrived?.firstGrantAfterArrivalSeconds.toFixed(2)} s after arrival, ${((arrived?.shareFrom2sAfterArrival ?? 0) * 100).toFixed(1)} % of the grants from 2 s on (share 50 %): ${verdict((arrived?.shareFrom2sAfterArrival ?? 0) >= 0.475)}.`,
    `- Nothing lost, no id twice: ${lost} lost or twice over ${runs.reduce((s, r) => s + r.messages, 0)} messages: ${verdict(lost === 0)}.`,
    `- Shares 0.75 / 0.25, 150 batch ahead of 30 checkout on 3/s: checkout done at ${weighted?.products.checkout?.doneAtSeconds.toFixed(1)} s (about 15 s), the drain ${weighted?.makespanRatio.toFixed(3)} x ideal (within 1.25): ${verdict((weighted?.products.checkout?.doneAtSeconds ?? 99) <= 15.5 && (weighted?.makespanRatio ?? 9) <= 1.25)}; names only (equal shares): checkout done at ${equal?.products.checkout?.doneAtSeconds.toFixed(1)} s (about 20 s): ${verdict((equal?.products.checkout?.doneAtSeconds ?? 99) <= 20.5)}. Before (FCFS): ${byName('FCFS')?.products.checkout?.doneAtSeconds.toFixed(1)} s.`,
    `- Largest makespan over ideal with shares: ${worstRatio.toFixed(3)}.`,
  ];
}
