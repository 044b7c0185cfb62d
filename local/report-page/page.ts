import { readFileSync } from 'node:fs';
import { type ChartSpec, chartOption } from '../report/chart';

/** What the page shows: the charts, the summary table as the terminal prints it, a heading. */
export interface PageState {
  readonly title: string;
  /** One line under the heading: profile, vendor, configuration. */
  readonly subtitle: string;
  readonly charts: readonly ChartSpec[];
  /** The terminal's summary table (or, while a run goes, its progress lines). */
  readonly summary: string;
  /** `running` while a live run goes; the page stops polling once it reads `finished`. */
  readonly status: 'running' | 'finished';
}

/** The JSON the live page polls (`/state.json`): ECharts options, ready to draw. */
export function pageStateJson(state: PageState): string {
  return JSON.stringify({
    title: state.title,
    subtitle: state.subtitle,
    summary: state.summary,
    status: state.status,
    charts: state.charts.map((spec) => chartOption(spec)),
  });
}

let echartsSource: string | undefined;

/**
 * One self-contained HTML page: styles, ECharts (the npm package's own minified build) and the
 * data inline, nothing fetched from the network. With `live`, the page also polls
 * `/state.json` every second from the server that served it (the dashboard of a running stack).
 */
export function reportPage(state: PageState, options: { readonly live?: boolean } = {}): string {
  echartsSource ??= readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
  const initial = pageStateJson(state);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(state.title)}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 16px 24px; color: #222; background: #fafafa; }
  h1 { font-size: 20px; margin: 0 0 4px; font-weight: 600; }
  .subtitle { color: #555; margin: 0 0 16px; font-size: 13px; }
  .status { font-size: 12px; color: #666; margin-left: 8px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 560px), 1fr)); gap: 16px; }
  .chart { background: #fff; border: 1px solid #ddd; border-radius: 4px; height: 320px; min-width: 0; }
  pre.summary { background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 12px; overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
</style>
</head>
<body>
<h1 id="title">${escapeHtml(state.title)}<span class="status" id="status"></span></h1>
<p class="subtitle" id="subtitle">${escapeHtml(state.subtitle)}</p>
<div class="grid" id="charts"></div>
<h2 style="font-size:16px">Summary</h2>
<pre class="summary" id="summary">${escapeHtml(state.summary)}</pre>
<script>${echartsSource}</script>
<script>
(function () {
  var live = ${options.live ? 'true' : 'false'};
  var charts = [];
  function draw(state) {
    var grid = document.getElementById('charts');
    state.charts.forEach(function (option, index) {
      if (!charts[index]) {
        var element = document.createElement('div');
        element.className = 'chart';
        element.setAttribute('data-chart', String(index));
        grid.appendChild(element);
        charts[index] = echarts.init(element, null, { renderer: 'svg' });
      }
      charts[index].setOption(option, { notMerge: true });
    });
    document.getElementById('summary').textContent = state.summary;
    document.getElementById('subtitle').textContent = state.subtitle;
    document.getElementById('status').textContent = live
      ? (state.status === 'running' ? ' live, updated ' + new Date().toLocaleTimeString() : ' finished')
      : '';
    document.body.setAttribute('data-status', state.status);
    document.body.setAttribute('data-updates', String(Number(document.body.getAttribute('data-updates') || '0') + 1));
  }
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  draw(${initial.replace(/</g, '\\u003c')});
  if (live) {
    var timer = setInterval(function () {
      fetch('/state.json', { cache: 'no-store' })
        .then(function (r) { return r.json(); })
        .then(function (state) { draw(state); if (state.status === 'finished') clearInterval(timer); })
        .catch(function () { document.getElementById('status').textContent = ' (the run has stopped)'; clearInterval(timer); });
    }, 1000);
  }
})();
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
