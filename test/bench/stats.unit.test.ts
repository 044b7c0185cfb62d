import { refusalsOverTime, secondsUntilBelow } from '../../bench/servers/vendor-server';
import { percentile, replayTokens, unitsPerSecond, worstIntervalExcess } from '../../bench/stats';

describe('bench statistics', () => {
  it('takes the nearest-rank percentile', () => {
    const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect([percentile(samples, 50), percentile(samples, 99), percentile(samples, 10)]).toEqual([5, 10, 1]);
  });

  it('finds no excess when grants follow the refill rate after the burst', () => {
    const burst = Array.from({ length: 5 }, () => ({ sentMs: 0, answeredMs: 1, units: 1 }));
    const paced = Array.from({ length: 10 }, (_, i) => ({
      sentMs: 200 * (i + 1),
      answeredMs: 200 * (i + 1) + 1,
      units: 1,
    }));
    expect(worstIntervalExcess([...burst, ...paced], 5, 5)).toBeLessThanOrEqual(0.01);
  });

  it('charges a fixed window its boundary burst: two full windows a moment apart', () => {
    const before = Array.from({ length: 50 }, () => ({ sentMs: 990, answeredMs: 995, units: 1 }));
    const after = Array.from({ length: 50 }, () => ({ sentMs: 1000, answeredMs: 1010, units: 1 }));
    // 100 units within 20 ms against capacity 50 + 50/s × 0.02 s = 51.
    expect(worstIntervalExcess([...before, ...after], 50, 50)).toBeCloseTo(49, 6);
  });

  it('replays a token bucket over the grants, going negative on over-admission', () => {
    const grants = [
      { sentMs: 0, answeredMs: 0, units: 2 },
      { sentMs: 0, answeredMs: 500, units: 2 },
    ];
    expect(replayTokens(grants, 2, 1, 0)).toEqual([
      { atSeconds: 0, tokens: 2 },
      { atSeconds: 0, tokens: 0 },
      { atSeconds: 0.5, tokens: -1.5 },
    ]);
  });

  it('counts units per whole second by answer time', () => {
    const grants = [0, 999, 1000, 2500].map((answeredMs) => ({ sentMs: answeredMs, answeredMs, units: 1 }));
    expect(unitsPerSecond(grants, 0, 3)).toEqual([2, 1, 1]);
  });
});

describe('the limited vendor timeline', () => {
  it('counts refusals per window and finds when the share stays below the threshold', () => {
    const calls = [
      ...Array.from({ length: 10 }, (_, i) => ({ atMs: i * 100, status: i % 2 === 0 ? 429 : 200 })),
      ...Array.from({ length: 10 }, (_, i) => ({ atMs: 1000 + i * 100, status: 200 })),
      { atMs: 2500, status: 200 },
    ];
    const windows = refusalsOverTime(calls, 1);

    expect(windows).toEqual([
      { fromSeconds: 0, calls: 10, refusals: 5, share: 0.5 },
      { fromSeconds: 1, calls: 10, refusals: 0, share: 0 },
      { fromSeconds: 2, calls: 1, refusals: 0, share: 0 },
    ]);
    expect(secondsUntilBelow(windows, 0.02)).toEqual(1);
    expect(secondsUntilBelow([{ fromSeconds: 0, calls: 4, share: 0.25 }], 0.02)).toBeNull();
  });
});
