import type { ChartSpec, Series } from '../report/chart';
import type { TimelineData } from './recorder';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
const REFUSED = '#d62728';
const X = 'seconds since the work was enqueued';

/**
 * The run report's charts, one per widget of the CloudWatch dashboard the CDK app deploys
 * (lib/constructs/monitoring/dashboard.ts): the same title first, then what the local run
 * measures it in (per second here, per minute on AWS). docs/local-stack.md lists the pairs.
 */
export function runWidgets(timeline: TimelineData): ChartSpec[] {
  const at = <T>(list: readonly T[]) => list.map((value, second) => [second, value] as [number, T]);
  const steps = (name: string, color: string, list: readonly number[]): Series => ({
    name,
    color,
    steps: true,
    points: at(list),
  });
  const widgets: ChartSpec[] = timeline.buckets
    .filter((bucket) => bucket.limitType !== 'concurrent')
    .map((bucket, index) => ({
      title: `Admitted rate: ${bucket.dimension}`,
      xLabel: X,
      yLabel: bucket.limitType === 'tokens' ? 'tokens per second' : 'requests per second',
      series: [steps('admitted', COLORS[index % COLORS.length] ?? '#1f77b4', bucket.admitted)],
      // A keyed definition's limit holds for each key; the chart sums the keys.
      references: [
        {
          label: `configured limit ${trim(bucket.perSecond)}/s${bucket.dimension.endsWith('#*') ? ' per key' : ''}`,
          y: bucket.perSecond,
        },
        ...(bucket.statedPerSecond === null
          ? []
          : [{ label: `vendor states ${trim(bucket.statedPerSecond)}/s`, y: bucket.statedPerSecond }]),
      ],
    }));
  const answerNames = Object.keys(timeline.answers).sort((a, b) =>
    a === 'success' ? -1 : b === 'success' ? 1 : a.localeCompare(b),
  );
  widgets.push({
    title: 'Vendor answers, 429s and penalties',
    xLabel: X,
    yLabel: 'answers per second',
    series: [
      ...answerNames.map((name, index) =>
        name === 'success'
          ? steps(name, '#2ca02c', timeline.answers[name] ?? [])
          : {
              name,
              color: name === 'rate_limited' ? REFUSED : (COLORS[(index + 3) % COLORS.length] ?? '#7f7f7f'),
              marks: true,
              points: at(timeline.answers[name] ?? []).filter(([, count]) => count > 0),
            },
      ),
      {
        name: 'penalty',
        color: '#000000',
        marks: true,
        points: timeline.penalties.map((p): [number, number] => [p.t, 0]),
      },
    ],
  });
  widgets.push({
    title: 'Refill rate after a penalty (% of configured), by bucket',
    xLabel: X,
    yLabel: '% of the configured rate',
    series: [
      ...timeline.buckets
        .filter((bucket) => bucket.limitType !== 'concurrent' && !bucket.dimension.endsWith('#*'))
        .map((bucket, index) => ({
          name: bucket.dimension,
          color: COLORS[index % COLORS.length] ?? '#1f77b4',
          steps: true,
          points: at(bucket.rateScale.map((scale) => (scale === null ? null : trim(scale * 100)))),
        })),
      {
        name: 'learnt ceiling at a penalty',
        color: '#000000',
        marks: true,
        points: timeline.penalties
          .filter((p) => p.ceilingAfter !== null)
          .map((p): [number, number] => [p.t, trim((p.ceilingAfter ?? 0) * 100)]),
      },
    ],
    references: [{ label: 'configured', y: 100 }],
  });
  widgets.push({
    title: 'Vendor calls in flight',
    xLabel: X,
    yLabel: 'calls (most at once in the second)',
    series: [steps('in flight', '#1f77b4', timeline.inFlight)],
    references: [{ label: `maxInFlight ${timeline.maxInFlight}`, y: timeline.maxInFlight }],
  });
  widgets.push({
    title: 'Queue depth',
    xLabel: X,
    yLabel: 'messages',
    series: [
      steps('visible', '#1f77b4', timeline.queue.visible),
      steps('delayed', '#ff7f0e', timeline.queue.delayed),
      steps('in flight', '#2ca02c', timeline.queue.inFlight),
    ],
  });
  widgets.push({
    title: 'Messages by fate',
    xLabel: X,
    yLabel: 'messages (so far)',
    series: [
      steps('completed', '#2ca02c', timeline.fates.completed),
      steps('dead-lettered', REFUSED, timeline.fates.deadLettered),
      steps('requeued', '#ff7f0e', timeline.fates.requeued),
    ],
  });
  widgets.push({
    title: 'Vendor circuit: open for (s)',
    xLabel: X,
    yLabel: 'seconds open (0: closed)',
    series: [steps('open for', REFUSED, timeline.circuitOpenSeconds)],
  });
  const products = Object.keys(timeline.products).sort();
  if (products.length > 0) {
    widgets.push({
      title: 'Grants by product',
      xLabel: X,
      yLabel: 'grants per second',
      series: products.map((product, index) =>
        steps(product, COLORS[index % COLORS.length] ?? '#1f77b4', timeline.products[product] ?? []),
      ),
    });
  }
  const shared = Object.keys(timeline.productShares).sort();
  if (shared.length > 0) {
    widgets.push({
      title: 'Share used and borrowed, by product',
      xLabel: X,
      yLabel: 'units per second',
      series: shared.flatMap((product, index) => {
        const use = timeline.productShares[product];
        return [
          steps(
            `${product}: from its share`,
            COLORS[(2 * index) % COLORS.length] ?? '#1f77b4',
            use?.reserved ?? [],
          ),
          steps(
            `${product}: common (lent or unreserved)`,
            COLORS[(2 * index + 1) % COLORS.length] ?? '#ff7f0e',
            use?.common ?? [],
          ),
        ];
      }),
    });
  }
  return widgets;
}

const trim = (value: number) => Math.round(value * 100) / 100;
