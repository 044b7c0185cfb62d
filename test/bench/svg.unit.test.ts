import { lineChart, thin } from '../../bench/svg';

describe('the SVG chart writer', () => {
  it('draws one titled chart with a path and a legend entry per series and the reference lines', () => {
    const svg = lineChart({
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
          ],
        },
        {
          name: 'b',
          color: '#222222',
          steps: true,
          points: [
            [0, 3],
            [1, 4],
          ],
        },
      ],
      references: [{ label: 'limit', y: 3 }],
    });

    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<title>Units &lt;admitted&gt; &amp; refused</title>');
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('>limit</text>');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
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
