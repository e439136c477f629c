/**
 * Issue 14, item 6: GET /dashboard on a big store. A realistic history of N events (default
 * 1,000,000, `chronicle seed`'s generator, appended through the app's own event store factory so
 * that personal fields are sealed as the app stores them); the real app (dist/apps/api/src/main.js)
 * as a child process on that DATA_DIR, timed once its projections have caught up; Debian's Chromium
 * driven by puppeteer-core loads the page in a fresh browser context per run, the API key already
 * in the tab's sessionStorage. Measured in the page (times from navigation start): every chart
 * ready, the first chart ready, the slowest report request, the bytes of the page's own assets;
 * then the same page with one report delayed 3 s by request interception, to show that the other
 * charts do not wait for it.
 */
import { existsSync } from 'node:fs';
import puppeteer, { Browser, Page } from 'puppeteer-core';
import { seedBigStore, startBigApp, waitCaughtUp } from './big-store';
import { API_KEY, fmt, log, removeDir, Row, stat, tempDir } from './lib';

export interface DashboardOptions {
  runs: number;
  events: number;
  /** The report delayed in the "no chart blocks another" run, and by how long. */
  slowReport: string;
  slowMs: number;
}

/** The page keeps the key under this sessionStorage item (apps/api/src/dashboard/public/dashboard.js). */
const KEY_ITEM = 'chronicle.apiKey';
const FINAL_STATES = ['ready', 'error', 'forbidden'];

interface Load {
  /** Navigation start → every chart in a final state (ms). */
  allMs: number;
  firstMs: number;
  charts: Array<{ id: string; report: string; state: string; ms: number }>;
  /** The /reports/<name> requests as the page saw them (Resource Timing): whole duration and time to first byte. */
  reports: Array<{ url: string; startMs: number; ms: number; ttfbMs: number; bytes: number }>;
  /** Bytes transferred for the page and its assets (HTML, CSS, JS, ECharts, icon): headers included. */
  assetBytes: number;
  assets: Array<{ url: string; bytes: number }>;
}

// In-page scripts are strings: the bench compiles without the DOM library.
// Before any of the page's scripts: the key in the tab's storage (as after "Use key"), and a
// MutationObserver that stamps the moment each chart's data-state turns final, on the page's clock
// (performance.now() counts from navigation start).
const PRELUDE = (key: string) => `
  if (location.pathname.startsWith('/dashboard')) {
    sessionStorage.setItem(${JSON.stringify(KEY_ITEM)}, ${JSON.stringify(key)});
    window.__benchCharts = {};
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        const el = m.target;
        if (m.type !== 'attributes' || !el.classList || !el.classList.contains('chart')) continue;
        const state = el.dataset.state;
        if (${JSON.stringify(FINAL_STATES)}.includes(state) && !window.__benchCharts[el.id])
          window.__benchCharts[el.id] = { report: el.dataset.report, state, ms: performance.now() };
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  }`;

const ALL_FINAL = `(() => {
  const charts = [...document.querySelectorAll('.chart')];
  return charts.length > 0 && charts.every((c) => ${JSON.stringify(FINAL_STATES)}.includes(c.dataset.state));
})()`;

const COLLECT = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const path = (url) => new URL(url).pathname;
  return {
    charts: Object.entries(window.__benchCharts).map(([id, c]) => ({ id, ...c })),
    reports: resources
      .filter((r) => path(r.name).startsWith('/reports/'))
      .map((r) => ({ url: path(r.name) + new URL(r.name).search, startMs: r.startTime, ms: r.duration, ttfbMs: r.responseStart - r.requestStart, bytes: r.transferSize })),
    assets: [{ url: path(nav.name), bytes: nav.transferSize }].concat(
      resources.filter((r) => path(r.name).startsWith('/dashboard')).map((r) => ({ url: path(r.name), bytes: r.transferSize })),
    ),
  };
})()`;

async function loadPage(browser: Browser, url: string, delay?: { report: string; ms: number }): Promise<Load> {
  // A fresh context per load: no cache, no storage carried over from the previous run.
  const context = await browser.createBrowserContext();
  try {
    const page: Page = await context.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.evaluateOnNewDocument(PRELUDE(API_KEY));
    if (delay) {
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        const path = new URL(request.url()).pathname;
        if (path === `/reports/${delay.report}`) setTimeout(() => void request.continue(), delay.ms);
        else void request.continue();
      });
    }
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(ALL_FINAL, { polling: 20, timeout: 120_000 });
    const raw = (await page.evaluate(COLLECT)) as Omit<Load, 'allMs' | 'firstMs' | 'assetBytes'>;
    const times = raw.charts.map((c) => c.ms);
    return {
      ...raw,
      allMs: Math.max(...times),
      firstMs: Math.min(...times),
      assetBytes: raw.assets.reduce((s, a) => s + a.bytes, 0),
    };
  } finally {
    await context.close();
  }
}

export async function benchDashboard(options: DashboardOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    // A benchmark, not a test: without a browser the item has nothing to measure.
    log(`dashboard: skipped, no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);
    return { rows: [], details: { skipped: `no Chromium at ${chromium}` } };
  }
  const dataDir = tempDir('dashboard');
  try {
    // Seeded as `chronicle seed` does, through the app's factory (sealed personal fields, keys.db).
    const { head, seedSeconds } = await seedBigStore(dataDir, options.events, 'dashboard');
    const app = await startBigApp(dataDir);
    let browser: Browser | undefined;
    try {
      const catchUpMs = await waitCaughtUp(app.url, head, 15 * 60_000, 'dashboard');
      log(`dashboard: the app's projections caught up with ${fmt(head)} events in ${fmt(catchUpMs / 1000)} s (after start-up)`);
      browser = await puppeteer.launch({
        executablePath: chromium,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      const url = `${app.url}/dashboard`;
      // The first load after start-up (cold statement caches and pages) is kept apart, in the notes.
      const cold = await loadPage(browser, url);
      log(`dashboard: first (cold) load: every chart ${fmt(cold.allMs)} ms, first ${fmt(cold.firstMs)} ms`);
      const loads: Load[] = [];
      const slowLoads: Array<{ othersMs: number; slowMs: number; slowFirstMs: number }> = [];
      for (let run = 0; run < options.runs; run++) {
        const l = await loadPage(browser, url);
        loads.push(l);
        const s = await loadPage(browser, url, { report: options.slowReport, ms: options.slowMs });
        const others = s.charts.filter((c) => c.report !== options.slowReport).map((c) => c.ms);
        const slow = s.charts.filter((c) => c.report === options.slowReport).map((c) => c.ms);
        slowLoads.push({ othersMs: Math.max(...others), slowMs: Math.max(...slow), slowFirstMs: Math.min(...slow) });
        const slowest = l.reports.reduce((a, b) => (b.ms > a.ms ? b : a));
        log(
          `dashboard run ${run + 1}/${options.runs}: every chart ${fmt(l.allMs)} ms, first ${fmt(l.firstMs)} ms, slowest report ${fmt(slowest.ms)} ms (${slowest.url}), ` +
            `assets ${fmt(l.assetBytes / 1024)} KiB; ${options.slowReport} delayed ${options.slowMs} ms: others ${fmt(slowLoads[run].othersMs)} ms, it ${fmt(slowLoads[run].slowMs)} ms`,
        );
      }

      const notReady = loads.flatMap((l) => l.charts.filter((c) => c.state !== 'ready').map((c) => `${c.id}: ${c.state}`));
      const all = stat(loads.map((l) => l.allMs));
      const slowestReport = loads.map((l) => Math.max(...l.reports.map((r) => r.ms)));
      const charts = loads[0].charts.length;
      const size = `${fmt(head)} events`;
      // Per report URL: the median over the runs of its duration in the page.
      const perReport = new Map<string, number[]>();
      for (const l of loads) for (const r of l.reports) perReport.set(r.url, [...(perReport.get(r.url) ?? []), r.ms]);
      const others = stat(slowLoads.map((s) => s.othersMs));
      const rows: Row[] = [
        {
          item: 'dashboard',
          metric: `page ready (every chart, ${charts}), ${size}`,
          unit: 'ms',
          value: all,
          reference: { label: 'slowest report request', value: stat(slowestReport) },
          ratio: stat(loads.map((l, i) => l.allMs / slowestReport[i])),
          bar: head >= 1_000_000 ? '< 2 s' : '< 2 s (at 1,000,000)',
          pass: notReady.length === 0 && (head >= 1_000_000 ? all.median < 2000 : undefined),
          // Where the page's time goes: before the first report is asked for (the page's scripts,
          // ECharts included, load and run first), and the reports' own request → first byte.
          note:
            `first /reports/ request sent at ${fmt(stat(loads.map((l) => Math.min(...l.reports.map((r) => r.startMs)))).median)} ms; ` +
            `slowest report request → first byte ${fmt(stat(loads.map((l) => Math.max(...l.reports.map((r) => r.ttfbMs)))).median)} ms; ` +
            `cold first load after start-up ${fmt(cold.allMs)} ms; ` +
            (notReady.length ? `NOT READY: ${notReady.join(', ')}` : `every chart "ready" in every run`),
        },
        { item: 'dashboard', metric: 'first chart ready', unit: 'ms', value: stat(loads.map((l) => l.firstMs)) },
        {
          item: 'dashboard',
          // Resource Timing's duration: from the fetch() call, so the wait for one of Chromium's six
          // connections to the host (11 reports + the report list) is included.
          metric: `slowest report request (of ${loads[0].reports.length}, in the page, connection wait included)`,
          unit: 'ms',
          value: stat(slowestReport),
          note: [...perReport.entries()]
            .map(([u, ms]) => [u, stat(ms).median] as const)
            .sort((a, b) => b[1] - a[1])
            .map(([u, ms]) => `${u} ${fmt(ms)} ms`)
            .join('; '),
        },
        {
          item: 'dashboard',
          metric: 'page weight (HTML, CSS, JS, ECharts, icon; transferred)',
          unit: 'KiB',
          value: stat(loads.map((l) => l.assetBytes / 1024)),
          note: loads[0].assets.map((a) => `${a.url} ${fmt(a.bytes / 1024)} KiB`).join('; '),
        },
        {
          item: 'dashboard',
          metric: `other charts ready while /reports/${options.slowReport} is delayed ${fmt(options.slowMs / 1000)} s`,
          unit: 'ms',
          value: others,
          reference: { label: `the delayed report's charts`, value: stat(slowLoads.map((s) => s.slowMs)) },
          ratio: stat(slowLoads.map((s) => s.othersMs / s.slowMs)),
          bar: '< 2 s, before the delayed one',
          pass: others.median < 2000 && slowLoads.every((s) => s.othersMs < s.slowFirstMs),
        },
      ];
      return {
        rows,
        details: { head, seedSeconds, catchUpMs, cold, loads, slowLoads, options },
      };
    } catch (error) {
      process.stderr.write(app.output());
      throw error;
    } finally {
      await browser?.close();
      await app.stop();
    }
  } finally {
    removeDir(dataDir);
  }
}
