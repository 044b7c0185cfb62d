/**
 * The project's one chart module: the bench's SVG charts and the run report's page (static or
 * live) are all drawn by Apache ECharts from the same `ChartSpec`. A spec is plain data; it
 * becomes an ECharts option here, which Node renders to an SVG string (server-side rendering,
 * no DOM, no network) and the browser renders live from the same JSON.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number | null]>;
  /** Draw as steps (a count per interval) rather than a line. */
  readonly steps?: boolean;
  /** Marks only, no line: events on the time axis (a 429, a penalty). */
  readonly marks?: boolean;
  /** Plot against the right-hand axis (`ChartSpec.y2Label`), e.g. a share beside a rate. */
  readonly rightAxis?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** The right-hand axis' label, when a series is drawn against it. */
  readonly y2Label?: string;
  readonly series: readonly Series[];
  /** Horizontal reference lines, e.g. the limit. */
  readonly references?: ReadonlyArray<{ readonly label: string; readonly y: number }>;
}

export interface ChartSize {
  readonly width: number;
  readonly height: number;
}

const BENCH_SIZE: ChartSize = { width: 760, height: 360 };
const REFERENCE_COLOR = '#d62728';

/**
 * The ECharts option for a spec: JSON only (no functions), so the live page can receive it
 * over HTTP and the report page can inline it.
 */
export function chartOption(spec: ChartSpec): Record<string, unknown> {
  const references = spec.references ?? [];
  const series = spec.series.map((s, index) => ({
    name: s.name,
    type: s.marks ? 'scatter' : 'line',
    data: s.points.map(([x, y]) => [x, y]),
    ...(s.steps ? { step: 'end' } : {}),
    ...(s.marks ? { symbolSize: 7 } : { showSymbol: false, lineStyle: { width: 1.5 } }),
    yAxisIndex: s.rightAxis && spec.y2Label ? 1 : 0,
    itemStyle: { color: s.color },
    // Reference lines ride on the first series (ECharts draws mark lines per series).
    ...(index === 0 && references.length > 0
      ? {
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { color: REFERENCE_COLOR, type: 'dashed' },
            label: { formatter: '{b}', position: 'insideEndTop', color: REFERENCE_COLOR },
            data: references.map((r) => ({ name: r.label, yAxis: r.y })),
          },
        }
      : {}),
  }));
  const axis = (name: string) => ({
    type: 'value',
    name,
    nameLocation: 'middle',
    nameGap: 40,
    splitLine: { lineStyle: { color: '#e5e5e5' } },
  });
  const yMax = Math.max(0, ...references.map((r) => r.y));
  return {
    animation: false,
    backgroundColor: '#ffffff',
    title: { text: spec.title, left: 'center', textStyle: { fontSize: 14, fontWeight: 'normal' } },
    legend: { type: 'scroll', bottom: 0, data: spec.series.map((s) => s.name) },
    grid: { left: 64, right: spec.y2Label ? 64 : 24, top: 40, bottom: 72 },
    tooltip: { trigger: 'axis' },
    xAxis: { ...axis(spec.xLabel), nameGap: 26, min: 0 },
    yAxis: [
      // Room above a reference line, so the limit is never drawn on the frame.
      { ...axis(spec.yLabel), ...(yMax > 0 ? { max: niceMax(yMax * 1.15, spec) } : {}) },
      ...(spec.y2Label ? [{ ...axis(spec.y2Label), splitLine: { show: false } }] : []),
    ],
    series,
  };
}

/** Renders a spec to a standalone SVG document (the bench's charts), with ECharts in Node. */
export function lineChart(spec: ChartSpec, size: ChartSize = BENCH_SIZE): string {
  // Loaded on first use: the bench and the report page need it, the rest of the stack does not.
  const echarts = require('echarts') as typeof import('echarts');
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...size });
  try {
    chart.setOption(chartOption(spec));
    return `${chart.renderToSVGString()}\n`;
  } finally {
    // ECharts keeps a render loop alive until disposed.
    chart.dispose();
  }
}

/**
 * Keeps at most `max` points, taking the lowest point of each stretch so dips (a penalty,
 * a drained bucket) stay visible.
 */
export function thin(
  points: ReadonlyArray<readonly [number, number]>,
  max: number,
): Array<readonly [number, number]> {
  if (points.length <= max) return [...points];
  const stride = Math.ceil(points.length / max);
  const kept: Array<readonly [number, number]> = [];
  for (let i = 0; i < points.length; i += stride) {
    const stretch = points.slice(i, i + stride);
    kept.push(stretch.reduce((low, p) => (p[1] < low[1] ? p : low)));
  }
  return kept;
}

/** The largest data value of a spec's series and references rounded up, so the axis ends tidily. */
function niceMax(atLeast: number, spec: ChartSpec): number {
  const data = spec.series.filter((s) => !s.rightAxis).flatMap((s) => s.points.map((p) => p[1] ?? 0));
  const top = Math.max(atLeast, ...data);
  const magnitude = 10 ** Math.floor(Math.log10(top || 1));
  return Math.ceil(top / (magnitude / 2)) * (magnitude / 2);
}
