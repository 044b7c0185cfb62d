import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { chromiumPath } from '../setup/browser';

const root = join(__dirname, '..', '..');
/** Under the run's own output folder, so a reviewer can open the page and its screenshot after `npm test`. */
const out = join(root, '.sluice-local', 'report-page');
const htmlFile = join(out, 'report.html');

/**
 * What the page's own scripts see, typed for the functions that run inside the browser (this
 * project compiles without the DOM library; the casts are erased before the functions are sent).
 */
interface InPage {
  readonly document: {
    readonly body: { getAttribute(name: string): string | null };
    readonly documentElement: { readonly scrollWidth: number };
    getElementById(id: string): { readonly textContent: string | null } | null;
  };
  readonly innerWidth: number;
  readonly echarts: {
    getInstanceByDom(element: unknown): {
      getOption(): { title: { text: string }[]; series: { data: unknown[] }[] };
    };
  };
}

/** How many charts each page must draw: one per widget of the run (see local/timeline/widgets.ts). */
interface ChartCheck {
  readonly title: string;
  readonly points: number;
}

/** Every chart's title and its number of data points, read from the ECharts instances the page made. */
async function chartsOf(page: Page): Promise<ChartCheck[]> {
  return page.$$eval('[data-chart]', (elements) =>
    elements.map((element) => {
      const option = (globalThis as unknown as InPage).echarts.getInstanceByDom(element).getOption();
      return {
        title: option.title[0]?.text ?? '',
        points: option.series.reduce((sum, series) => sum + series.data.length, 0),
      };
    }),
  );
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

describe('the run report page, in a real browser', () => {
  let browser: Browser;
  let run: ChildProcess | undefined;

  beforeAll(async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    run?.kill('SIGKILL');
    await browser?.close();
  });

  it('updates live while `npm start -- --dashboard --html` runs, then writes a page whose every chart has data', async () => {
    // As a user runs it: one node process with tsx's loader.
    run = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'local', 'main.ts'),
        '--count',
        '40',
        '--quiet',
        '--dashboard',
        '--html',
        htmlFile,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    run.stdout?.on('data', (chunk) => {
      stdout += String(chunk);
    });
    run.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => run?.on('exit', (code) => resolve(code)));

    // The URL is printed before the servers start.
    const url = await waitFor(
      () => /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1],
      () => stdout + stderr,
    );
    const live = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const liveErrors = collectErrors(live);
    await live.goto(url);
    await live.waitForSelector('[data-chart]');
    const updatesAt = async () => Number(await live.getAttribute('body', 'data-updates'));
    const completedNow = async () =>
      Number(/completed\s+(\d+)/.exec((await live.textContent('#summary')) ?? '')?.[1] ?? 0);
    const firstUpdates = await updatesAt();
    const firstCompleted = await completedNow();
    // While the run goes the page polls: its count of redraws grows, and so do the completions it shows.
    await live.waitForFunction(
      (before) =>
        Number((globalThis as unknown as InPage).document.body.getAttribute('data-updates')) >= before + 3,
      firstUpdates,
      {
        timeout: 60_000,
      },
    );
    await live.waitForFunction(
      (before) =>
        Number(
          /completed\s+(\d+)/.exec(
            (globalThis as unknown as InPage).document.getElementById('summary')?.textContent ?? '',
          )?.[1] ?? 0,
        ) > before,
      firstCompleted,
      { timeout: 120_000 },
    );
    expect(await updatesAt()).toBeGreaterThan(firstUpdates);

    // At the end the page reads the finished state, shows the summary and stops polling.
    await live.waitForFunction(
      () => (globalThis as unknown as InPage).document.body.getAttribute('data-status') === 'finished',
      undefined,
      { timeout: 120_000 },
    );
    expect(await live.textContent('#summary')).toContain('OK: nothing lost, nothing completed twice');
    expect(await exited).toBe(0);
    expect(stdout).toContain(`report page: ${htmlFile}`);
    expect(liveErrors).toEqual([]);

    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`file://${htmlFile}`);
    await page.waitForSelector('[data-chart]');
    const charts = await chartsOf(page);
    expect(charts.map((chart) => chart.title)).toEqual(
      expect.arrayContaining([
        'Admitted rate: waitwhile#rps',
        'Vendor answers, 429s and penalties',
        'Refill rate after a penalty (% of configured), by bucket',
        'Vendor calls in flight',
        'Queue depth',
        'Messages by fate',
        'Vendor circuit: open for (s)',
        'Grants by product',
      ]),
    );
    for (const chart of charts)
      expect({ title: chart.title, drawn: chart.points > 0 }).toEqual({ title: chart.title, drawn: true });
    // Each chart is drawn as SVG with its lines in it, and the page needs no sideways scrolling.
    const paths = await page.$$eval('[data-chart] svg', (svgs) =>
      svgs.map((svg) => svg.querySelectorAll('path').length),
    );
    expect(paths.every((count) => count > 0)).toBe(true);
    expect(
      await page.evaluate(() => {
        const inPage = globalThis as unknown as InPage;
        return inPage.document.documentElement.scrollWidth <= inPage.innerWidth;
      }),
    ).toBe(true);
    expect(await page.textContent('#summary')).toContain('OK: nothing lost, nothing completed twice');
    // Self-contained: no request leaves the page.
    expect(readFileSync(htmlFile, 'utf8')).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    await page.screenshot({ path: join(out, 'report.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

async function waitFor<T>(
  probe: () => T | undefined,
  describe: () => string,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`gave up waiting; output so far:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
