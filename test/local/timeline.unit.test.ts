import { RunTimeline } from '../../local/timeline/recorder';
import { runWidgets } from '../../local/timeline/widgets';

const T0 = 1_000_000;
const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 'INFO', ...fields });

function timeline() {
  const recorded = new RunTimeline(
    [
      { dimension: 'waitwhile#rps', limitType: 'requests', perSecond: 5, capacity: 3 },
      { dimension: 'waitwhile#location-writes#*', limitType: 'requests', perSecond: 1, capacity: 1 },
    ],
    4,
  );
  recorded.start(T0);
  return recorded;
}

const look = (nowMs: number, completed: number, rateScale = 1) => ({
  nowMs,
  total: 10,
  vendorCalls: completed,
  refusals: 0,
  queue: { visible: 10 - completed, delayed: 0, inFlight: 1 },
  completed,
  deadLettered: 0,
  requeued: 0,
  buckets: [
    {
      dimension: 'waitwhile#rps',
      limitType: 'requests' as const,
      capacity: 3,
      refillPerSecond: 5,
      tokens: 2,
      debt: 0,
      leases: 0,
      rateScale,
    },
  ],
});

describe('the run timeline', () => {
  it('counts granted units per second per bucket, a keyed bucket summing its keys, and grants per product', () => {
    const recorded = timeline();
    const granted = (ms: number, location: string, product: string) =>
      recorded.onLogLine(
        line({
          message: 'acquire.granted',
          costs: { 'waitwhile#rps': 1, [`waitwhile#location-writes#${location}`]: 1 },
          product,
        }),
        T0 + ms,
      );
    granted(100, 'loc-1', 'checkout');
    granted(900, 'loc-2', 'support');
    granted(1_200, 'loc-1', 'checkout');
    const data = recorded.data(T0 + 1_500);
    expect(data.seconds).toBe(2);
    expect(data.buckets.map((b) => [b.dimension, b.admitted])).toEqual([
      ['waitwhile#rps', [2, 1]],
      ['waitwhile#location-writes#*', [2, 1]],
    ]);
    expect(data.products).toEqual({ checkout: [1, 1], support: [1, 0] });
    expect(data.productShares).toEqual({});
  });

  it('sums, per product, the units taken from its share and from the common part of shared buckets', () => {
    const recorded = timeline();
    const granted = (ms: number, product: string, reserved: number, common: number) =>
      recorded.onLogLine(
        line({
          message: 'acquire.granted',
          costs: { 'waitwhile#rps': reserved + common },
          product,
          shares: { 'waitwhile#rps': { reserved, common } },
        }),
        T0 + ms,
      );
    granted(100, 'checkout', 1, 0);
    granted(200, 'batch', 0, 1);
    granted(1_100, 'checkout', 0.5, 0.5);
    expect(recorded.data(T0 + 1_500).productShares).toEqual({
      checkout: { reserved: [1, 0.5], common: [0, 0.5] },
      batch: { reserved: [0, 0], common: [1, 0] },
    });
    expect(runWidgets(recorded.data(T0 + 1_500)).at(-1)?.title).toBe('Share used and borrowed, by product');
  });

  it('records vendor answers by class, penalties with the scale and ceiling they left, and how long the circuit was open', () => {
    const recorded = timeline();
    recorded.onLogLine(line({ message: 'vendor.answered', class: 'success' }), T0 + 10);
    recorded.onLogLine(line({ message: 'vendor.answered', class: 'rate_limited' }), T0 + 1_010);
    recorded.onLogLine(
      line({
        message: 'penalize.applied',
        dimension: 'waitwhile#rps',
        rate_scale_after: 0.8,
        rate_ceiling_after: 0.95,
      }),
      T0 + 1_020,
    );
    recorded.onLogLine(line({ message: 'circuit.opened' }), T0 + 2_000);
    recorded.look(look(T0 + 4_000, 1, 0.8));
    recorded.onLogLine(line({ message: 'circuit.closed' }), T0 + 4_500);
    recorded.look(look(T0 + 5_000, 2));
    const data = recorded.data(T0 + 5_000);
    expect(data.answers).toEqual({ success: [1, 0, 0, 0, 0, 0], rate_limited: [0, 1, 0, 0, 0, 0] });
    expect(data.penalties).toEqual([
      { t: 1.02, dimension: 'waitwhile#rps', rateScaleAfter: 0.8, ceilingAfter: 0.95 },
    ]);
    expect(data.circuitOpenSeconds).toEqual([0, 0, 0, 0, 2, 0]);
    // A level carries over the seconds without a look; before the first look it is unknown.
    expect(data.buckets[0]?.rateScale).toEqual([null, null, null, null, 0.8, 1]);
    expect(data.fates.completed).toEqual([0, 0, 0, 0, 1, 2]);
  });

  it('keeps the most calls out at once in each second', () => {
    const recorded = timeline();
    recorded.callsInFlight(1, T0 + 100);
    recorded.callsInFlight(1, T0 + 200);
    recorded.callsInFlight(-1, T0 + 300);
    recorded.callsInFlight(-1, T0 + 1_100);
    recorded.callsInFlight(1, T0 + 2_100);
    expect(recorded.data(T0 + 2_500).inFlight).toEqual([2, 1, 1]);
  });

  it('ignores what is not a handler event, and everything before the run starts', () => {
    const recorded = new RunTimeline(
      [{ dimension: 'a#rps', limitType: 'requests', perSecond: 1, capacity: 1 }],
      1,
    );
    recorded.onLogLine(line({ message: 'acquire.granted', costs: { 'a#rps': 1 } }), T0);
    recorded.start(T0);
    for (const text of [
      'not json',
      '{"broken',
      line({ _aws: {}, Grants: 1 }),
      line({ message: 'acquire.granted' }),
    ])
      recorded.onLogLine(text, T0 + 10);
    expect(recorded.data(T0 + 10).buckets[0]?.admitted).toEqual([0]);
  });

  it('draws every widget of the page, the limit as a reference line on each admitted-rate chart', () => {
    const recorded = timeline();
    recorded.onLogLine(
      line({ message: 'acquire.granted', costs: { 'waitwhile#rps': 1 }, product: 'checkout' }),
      T0 + 10,
    );
    recorded.look(look(T0 + 20, 0));
    const widgets = runWidgets(recorded.data(T0 + 1_000));
    expect(widgets.map((w) => w.title)).toEqual([
      'Admitted rate: waitwhile#rps',
      'Admitted rate: waitwhile#location-writes#*',
      'Vendor answers, 429s and penalties',
      'Refill rate after a penalty (% of configured), by bucket',
      'Vendor calls in flight',
      'Queue depth',
      'Messages by fate',
      'Vendor circuit: open for (s)',
      'Grants by product',
    ]);
    expect(widgets[0]?.references).toEqual([{ label: 'configured limit 5/s', y: 5 }]);
    expect(widgets[1]?.references).toEqual([{ label: 'configured limit 1/s per key', y: 1 }]);
    recorded.onLogLine(
      line({
        message: 'bucket.stated_limit_below_configured',
        dimension: 'waitwhile#rps',
        stated_limit_per_second: 3,
      }),
      T0 + 30,
    );
    expect(runWidgets(recorded.data(T0 + 1_000))[0]?.references).toEqual([
      { label: 'configured limit 5/s', y: 5 },
      { label: 'vendor states 3/s', y: 3 },
    ]);
    for (const widget of widgets) expect(widget.yLabel).not.toBe('');
  });
});
