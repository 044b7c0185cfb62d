import { chartOption, lineChart, thin } from '../../local/report/chart';

const spec = {
  title: 'Units <admitted> & refused',
  xLabel: 'seconds',
  yLabel: 'units',
  series: [
    {
      name: 'a',
      color: '#111111',
      points: [
        [0, 1],
        [1, 2],
      ] as [number, number][],
    },
    {
      name: 'b',
      color: '#222222',
      steps: true,
      points: [
        [0, 3],
        [1, 4],
      ] as [number, number][],
    },
  ],
  references: [{ label: 'limit', y: 3 }],
};

describe('the chart module', () => {
  it('renders a spec to one SVG document with a line per series, the legend, the title and the reference line', () => {
    const svg = lineChart(spec);
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // ECharts escapes text for XML itself.
    expect(svg).toContain('Units &lt;admitted&gt; &amp; refused');
    expect(svg).toContain('>limit</text>');
    for (const name of ['>a</text>', '>b</text>']) expect(svg).toContain(name);
    expect(svg).toContain('stroke="#111111"');
    expect(svg).toContain('stroke="#222222"');
  });

  it('turns a spec into JSON only, so the live page can receive it over HTTP', () => {
    const option = chartOption({
      ...spec,
      series: [...spec.series, { name: 'refused', color: '#d62728', marks: true, points: [[1, 1]] }],
    });
    expect(JSON.parse(JSON.stringify(option))).toEqual(option);
    const series = option.series as { type: string; step?: string; markLine?: unknown }[];
    expect(series.map((s) => s.type)).toEqual(['line', 'line', 'scatter']);
    expect(series[1]?.step).toBe('end');
    expect(series[0]?.markLine).toBeDefined();
  });

  it('thins a long series keeping the lowest point of each stretch, so dips stay visible', () => {
    const points = Array.from({ length: 10 }, (_, i) => [i, i === 7 ? -5 : i] as const);
    expect(thin(points, 5)).toEqual([
      [0, 0],
      [2, 2],
      [4, 4],
      [7, -5],
      [8, 8],
    ]);
  });
});
