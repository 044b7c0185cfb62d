/**
 * A tiny SVG line-chart writer: enough for the bench's three charts, no dependency. Points
 * are data coordinates; the chart scales them into a fixed frame with labelled axes.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Draw as steps (a count per interval) rather than a line. */
  readonly steps?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Horizontal reference lines, e.g. the limit. */
  readonly references?: ReadonlyArray<{ readonly label: string; readonly y: number }>;
}

const WIDTH = 760;
const HEIGHT = 360;
const PAD = { left: 64, right: 180, top: 36, bottom: 48 };

export function lineChart(spec: ChartSpec): string {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [
    ...spec.series.flatMap((s) => s.points.map((p) => p[1])),
    ...(spec.references ?? []).map((r) => r.y),
  ];
  const [xMin, xMax] = niceRange(Math.min(0, ...xs), Math.max(1, ...xs));
  const [yMin, yMax] = niceRange(Math.min(0, ...ys), Math.max(1, ...ys));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => PAD.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${xml(spec.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2 - PAD.right / 2}" y="20" text-anchor="middle" font-size="14">${xml(spec.title)}</text>`,
  ];
  for (const tick of ticks(yMin, yMax)) {
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${f(sy(tick))}" y2="${f(sy(tick))}" stroke="#e5e5e5"/>`,
      `<text x="${PAD.left - 6}" y="${f(sy(tick) + 4)}" text-anchor="end">${label(tick)}</text>`,
    );
  }
  for (const tick of ticks(xMin, xMax)) {
    parts.push(
      `<line x1="${f(sx(tick))}" x2="${f(sx(tick))}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${f(sx(tick))}" y="${PAD.top + plotH + 18}" text-anchor="middle">${label(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${xml(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${xml(spec.yLabel)}</text>`,
  );
  for (const reference of spec.references ?? []) {
    const y = f(sy(reference.y));
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" stroke="#d62728" stroke-dasharray="6 4"/>`,
      `<text x="${PAD.left + plotW + 6}" y="${y}" fill="#d62728">${xml(reference.label)}</text>`,
    );
  }
  spec.series.forEach((series, index) => {
    const path = pathOf(series, sx, sy);
    parts.push(
      `<path d="${path}" fill="none" stroke="${series.color}" stroke-width="1.5" stroke-opacity="0.85"/>`,
    );
    const legendY = PAD.top + 16 + index * 18;
    parts.push(
      `<line x1="${PAD.left + plotW + 6}" x2="${PAD.left + plotW + 26}" y1="${legendY + 20}" y2="${legendY + 20}" stroke="${series.color}" stroke-width="3"/>`,
      `<text x="${PAD.left + plotW + 30}" y="${legendY + 24}">${xml(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function pathOf(series: Series, sx: (x: number) => number, sy: (y: number) => number): string {
  const commands: string[] = [];
  series.points.forEach(([x, y], index) => {
    if (index === 0) {
      commands.push(`M${f(sx(x))},${f(sy(y))}`);
    } else if (series.steps) {
      commands.push(`H${f(sx(x))}`, `V${f(sy(y))}`);
    } else {
      commands.push(`L${f(sx(x))},${f(sy(y))}`);
    }
  });
  return commands.join(' ');
}

/** Keeps at most `max` points, each kept point the lowest of its stretch: dips must stay visible. */
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

function niceRange(min: number, max: number): [number, number] {
  const step = niceStep((max - min) / 5);
  return [Math.floor(min / step) * step, Math.ceil(max / step) * step];
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

function ticks(min: number, max: number): number[] {
  const step = niceStep((max - min) / 5);
  const out: number[] = [];
  for (let t = min; t <= max + step / 2; t += step) out.push(Number(t.toPrecision(10)));
  return out;
}

const f = (value: number) => value.toFixed(1);
const label = (value: number) => String(Number(value.toPrecision(6)));
const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
