// The dashboard's client (docs/dashboard.md): every chart fetches its report on its own, with the
// API key of this tab, and shows the figures as a chart and, unchanged, as a table.
/* global echarts */

const KEY_ITEM = 'chronicle.apiKey';
const $ = (selector, root = document) => root.querySelector(selector);

// ---- The API key: in sessionStorage only (gone with the tab), never in localStorage or a URL.

const heldKey = () => sessionStorage.getItem(KEY_ITEM);

function showKeyState() {
  const held = heldKey() !== null;
  $('#key-form').hidden = held;
  $('#key-held').hidden = !held;
}

// ---- Report requests.

/** The API's message of a refused request (its JSON body), else the status line. */
async function problemOf(response) {
  try {
    const body = await response.json();
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the status says enough.
  }
  return `${response.status} ${response.statusText}`;
}

class RequestError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function get(url) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${heldKey()}` }, cache: 'no-store' });
  if (!response.ok) throw new RequestError(response.status, await problemOf(response));
  return response;
}

/** The report's query: the page's controls that the report takes, and the chart's own (asOf, groupBy). */
function reportUrl(chart, extra = {}) {
  const query = new URLSearchParams();
  for (const name of chart.params) {
    const value = name === 'asOf' || name === 'groupBy' ? chart[name] : $(`#${name}`).value;
    if (value) query.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  const text = query.toString();
  return `/reports/${chart.report}${text ? `?${text}` : ''}`;
}

/** Each report's CSV tables (`GET /reports`, the first one the default), loaded once per key. */
let csvTables = Promise.resolve(new Map());

function loadCsvTables() {
  csvTables = get('/reports')
    .then((response) => response.json())
    .then((body) => new Map(body.reports.map((report) => [report.name, report.tables ?? []])))
    .catch(() => new Map());
}

// ---- Formatting: table cells hold the API's numbers as they are.

const cell = (value) => (value === null || value === undefined ? '–' : String(value));
const day = (iso) => iso.slice(0, 10);
const percentOf = (value, target) => (value === null || !target ? null : Math.round((value / target) * 1000) / 10);

const filters = () => ({ owner: $('#owner').value.trim(), source: $('#source').value.trim() });
/** Rows kept by the owner or source filter (client-side: the reports take no such parameter). */
const kept = (kind, key) => !kind || !filters()[kind] || filters()[kind] === key;

const BASE_OPTION = {
  animation: false,
  tooltip: { trigger: 'axis', renderMode: 'richText' },
  legend: { top: 0, type: 'scroll' },
  grid: { left: 56, right: 56, top: 40, bottom: 32 },
};

/** A row per owner, then the report's totals. */
function ownerRows(owners, fields, totals) {
  return [
    ...owners.map((o) => ({ cells: [o.ownerId, ...fields.map((f) => o[f])] })),
    { cells: ['total', ...fields.map((f) => totals[f])], total: true },
  ];
}

/** Bars (and lines) over categories; `right` series use the second value axis. */
function barsOption(categories, series, right = []) {
  return {
    ...BASE_OPTION,
    xAxis: { type: 'category', data: categories },
    yAxis: [{ type: 'value' }, { type: 'value', splitLine: { show: false } }],
    series: [
      ...series.map(([name, data]) => ({ name, type: 'bar', data })),
      ...right.map(([name, data]) => ({ name, type: 'line', yAxisIndex: 1, data, connectNulls: false })),
    ],
  };
}

// ---- The charts: the report each one reads, its parameters, and how its response becomes a table and a chart.

const periodColumns = ['customersAtStart', 'newCustomers', 'reactivated', 'churned', 'customersAtEnd', 'churnRate'];
const cycleColumns = ['wonDeals', 'avgDays', 'medianDays', 'p90Days'];

const CHARTS = [
  {
    id: 'pipeline',
    title: 'Pipeline funnel',
    description: 'Deals open at the chosen instant, per stage: value and weighted value (⚠: stalled deals).',
    report: 'pipeline',
    params: ['asOf'],
    asOf: '',
    view(data) {
      const hasStalled = data.totals.stalled !== undefined;
      const columns = ['stage', 'deals', 'value', 'weightedValue', 'avgAgeDays', ...(hasStalled ? ['stalled'] : [])];
      const line = (stage, s) => [stage, s.deals, s.value, s.weightedValue, s.avgAgeDays ?? null, ...(hasStalled ? [s.stalled] : [])];
      const rows = data.stages.map((s) => ({ cells: line(s.stage, s), stalled: s.stalled > 0 }));
      rows.push({ cells: line('total', { ...data.totals, avgAgeDays: null }), total: true });
      const label = (s) => `${s.stage}: ${s.deals} deals${s.stalled ? `, ${s.stalled} stalled ⚠` : ''}`;
      // Two funnels on one axis: weighted value drawn inside value, the labels to the right.
      const funnel = (field, width) => ({
        name: field,
        type: 'funnel',
        sort: 'none',
        gap: 2,
        left: `${5 + (60 - width) / 2}%`,
        width: `${width}%`,
        top: 40,
        bottom: 10,
        minSize: '5%',
        label: { show: field === 'value', position: 'right', formatter: (p) => label(data.stages[p.dataIndex]) },
        labelLine: { show: field === 'value' },
        data: data.stages.map((s) => ({ name: s.stage, value: s[field] })),
      });
      return {
        columns,
        rows,
        option: {
          ...BASE_OPTION,
          tooltip: { trigger: 'item', renderMode: 'richText' },
          legend: { top: 0, data: ['value', 'weightedValue'] },
          series: [funnel('value', 60), { ...funnel('weightedValue', 36), z: 3, itemStyle: { opacity: 0.8 } }],
        },
      };
    },
  },
  {
    id: 'churn',
    title: 'Churn',
    description: 'Churn rate per period (line) with new, churned and reactivated customers (bars).',
    report: 'churn',
    params: ['from', 'to', 'interval', 'groupBy'],
    groupBy: '',
    groupByOptions: ['channel', 'region', 'owner'],
    filterBy: (chart) => (chart.groupBy === 'owner' ? 'owner' : null),
    csvTable: (chart) => (chart.groupBy ? 'groups' : null),
    view(data, chart) {
      const periodCells = (p) => [p.start, ...periodColumns.map((c) => p[c])];
      const overall = barsOption(
        data.periods.map((p) => day(p.start)),
        ['newCustomers', 'churned', 'reactivated'].map((c) => [c, data.periods.map((p) => p[c])]),
        [['churnRate', data.periods.map((p) => p.churnRate)]],
      );
      if (!data.groups)
        return { columns: ['start', ...periodColumns], rows: data.periods.map((p) => ({ cells: periodCells(p) })), option: overall };
      const groups = data.groups.filter((g) => kept(chart.filterBy(chart), g.key));
      return {
        columns: [data.groupBy, 'start', ...periodColumns],
        rows: groups.flatMap((g) => g.periods.map((p) => ({ cells: [g.key, ...periodCells(p)] }))),
        option: {
          ...overall,
          series: [
            ...overall.series.slice(0, 3),
            ...groups.map((g) => ({ name: `churnRate ${g.key}`, type: 'line', yAxisIndex: 1, data: g.periods.map((p) => p.churnRate) })),
          ],
        },
      };
    },
  },
  {
    id: 'sales-cycle',
    title: 'Sales cycle',
    description: 'Days from opening to winning, for the deals won in the range: median and 90th percentile, overall and per group.',
    report: 'sales-cycle',
    params: ['from', 'to', 'groupBy'],
    groupBy: '',
    groupByOptions: ['source', 'owner'],
    filterBy: (chart) => chart.groupBy || null,
    csvTable: () => 'groups',
    view(data, chart) {
      const lines = [data.overall, ...data.groups.filter((g) => kept(chart.filterBy(chart), g.key))];
      return {
        columns: ['key', ...cycleColumns],
        rows: lines.map((g, i) => ({ cells: [g.key, ...cycleColumns.map((c) => g[c])], total: i === 0 })),
        option: barsOption(
          lines.map((g) => g.key),
          ['medianDays', 'p90Days'].map((c) => [c, lines.map((g) => g[c])]),
        ),
      };
    },
  },
  {
    id: 'sales-cycle-stages',
    title: 'Where deals get stuck',
    description:
      'Average days a deal spent in each stage before leaving it (a stage change, a win or a loss) within the range, stacked: the longest segment is where deals get stuck.',
    report: 'sales-cycle',
    params: ['from', 'to'],
    csvTable: () => 'stages',
    view(data) {
      return {
        columns: ['stage', 'exits', 'avgDays'],
        rows: data.stages.map((s) => ({ cells: [s.stage, s.exits, s.avgDays] })),
        // One stacked bar, a segment per stage: the average journey through the pipeline, the
        // longest segment being where deals get stuck.
        option: {
          ...BASE_OPTION,
          xAxis: { type: 'value', name: 'days' },
          yAxis: { type: 'category', data: ['journey'], axisLabel: { show: false } },
          series: data.stages.map((s) => ({
            name: s.stage,
            type: 'bar',
            stack: 'journey',
            data: [s.avgDays],
            label: { show: s.avgDays !== null, formatter: '{a}' },
          })),
        },
      };
    },
  },
  {
    id: 'cac',
    title: 'Customer acquisition cost',
    description: 'Spend and new customers per period, and their ratio (CAC); by channel with group by.',
    report: 'cac',
    params: ['from', 'to', 'interval', 'groupBy'],
    groupBy: '',
    groupByOptions: ['channel'],
    csvTable: (chart) => (chart.groupBy ? 'channels' : null),
    view(data) {
      const fields = ['spend', 'newCustomers', 'cac'];
      const categories = data.periods.map((p) => day(p.start));
      const total = { cells: ['total', ...(data.periods[0]?.byChannel ? ['all'] : []), ...fields.map((f) => data.total[f])], total: true };
      if (!data.periods[0]?.byChannel) {
        return {
          columns: ['start', ...fields],
          rows: [...data.periods.map((p) => ({ cells: [p.start, ...fields.map((f) => p[f])] })), total],
          option: barsOption(categories, [['spend', data.periods.map((p) => p.spend)]], [['cac', data.periods.map((p) => p.cac)]]),
        };
      }
      const channels = [...new Set(data.periods.flatMap((p) => p.byChannel.map((c) => c.channel)))];
      const ofChannel = (p, channel) => p.byChannel.find((c) => c.channel === channel);
      return {
        columns: ['start', 'channel', ...fields],
        rows: [
          ...data.periods.flatMap((p) => p.byChannel.map((c) => ({ cells: [p.start, c.channel, ...fields.map((f) => c[f])] }))),
          total,
        ],
        option: barsOption(
          categories,
          [],
          channels.map((channel) => [`cac ${channel}`, data.periods.map((p) => ofChannel(p, channel)?.cac ?? null)]),
        ),
      };
    },
  },
  {
    id: 'forecast',
    title: 'Forecast',
    description: 'Open deals now, by the month they are expected to close: value and weighted value.',
    report: 'forecast',
    params: [],
    view(data) {
      const fields = ['deals', 'value', 'weightedValue'];
      return {
        columns: ['month', ...fields],
        rows: [
          ...data.months.map((m) => ({ cells: [m.month, ...fields.map((f) => m[f])] })),
          { cells: ['total', ...fields.map((f) => data.totals[f])], total: true },
        ],
        option: barsOption(
          data.months.map((m) => m.month),
          ['value', 'weightedValue'].map((f) => [f, data.months.map((m) => m[f])]),
        ),
      };
    },
  },
  {
    id: 'conversion',
    title: 'Conversion by lead source',
    description: 'Leads captured in the range and how many of them converted (so far), per source; per period without group by.',
    report: 'conversion',
    params: ['from', 'to', 'interval', 'groupBy'],
    groupBy: 'source',
    groupByOptions: ['source'],
    filterBy: (chart) => (chart.groupBy ? 'source' : null),
    csvTable: (chart) => (chart.groupBy ? 'sourceTotals' : null),
    view(data, chart) {
      const fields = ['captured', 'converted', 'conversionRate', 'avgDaysToConvert'];
      const [key, lines] = chart.groupBy
        ? ['source', data.total.bySource.filter((s) => kept('source', s.source)).map((s) => [s.source, s])]
        : ['start', data.periods.map((p) => [p.start, p])];
      return {
        columns: [key, ...fields],
        rows: [
          ...lines.map(([k, s]) => ({ cells: [k, ...fields.map((f) => s[f])] })),
          { cells: ['total', ...fields.map((f) => data.total[f])], total: true },
        ],
        option: barsOption(
          lines.map(([k]) => (key === 'start' ? day(k) : k)),
          ['captured', 'converted'].map((f) => [f, lines.map(([, s]) => s[f])]),
          [['conversionRate', lines.map(([, s]) => s.conversionRate)]],
        ),
      };
    },
  },
  {
    id: 'sales-performance',
    title: 'Sales performance',
    description: 'Per owner: deals opened, won and lost, win rate, revenue won and interactions in the range (whole days).',
    report: 'sales-performance',
    params: ['from', 'to'],
    filterBy: () => 'owner',
    view(data) {
      const fields = ['dealsOpened', 'dealsWon', 'dealsLost', 'winRate', 'revenueWon', 'interactions'];
      const owners = data.owners.filter((o) => kept('owner', o.ownerId));
      return {
        columns: ['ownerId', ...fields],
        rows: ownerRows(owners, fields, data.totals),
        option: barsOption(
          owners.map((o) => o.ownerId),
          [['revenueWon', owners.map((o) => o.revenueWon)]],
          [['winRate', owners.map((o) => o.winRate)]],
        ),
      };
    },
  },
  {
    id: 'goals',
    title: 'Goals',
    description: 'Every goal now: baseline, current and projected value at the deadline, as a share of the target (100 % = target).',
    report: 'goals',
    params: [],
    view(data) {
      const name = (g) => g.name ?? g.id;
      const option = barsOption(
        data.goals.map(name),
        [
          ['baseline %', data.goals.map((g) => percentOf(g.baseline.value, g.target))],
          ['current %', data.goals.map((g) => percentOf(g.current.value, g.target))],
          ['projected %', data.goals.map((g) => percentOf(g.projected, g.target))],
        ],
        [],
      );
      // The target (100 %): the line each goal's projection is judged against.
      option.series[2].markLine = { symbol: 'none', silent: true, data: [{ yAxis: 100 }], label: { formatter: 'target' } };
      return {
        columns: ['goal', 'kpi', 'target', 'baseline', 'current', 'projected', 'status'],
        rows: data.goals.map((g) => ({ cells: [name(g), g.kpi, g.target, g.baseline.value, g.current.value, g.projected, g.status] })),
        option: { ...option, yAxis: { type: 'value', name: '% of target' } },
      };
    },
  },
  {
    id: 'activity',
    title: 'Activity',
    description: 'Per owner over the range (ISO weeks): interactions logged, tasks created and completed.',
    report: 'activity',
    params: ['from', 'to'],
    filterBy: () => 'owner',
    csvTable: () => 'ownerTotals',
    view(data) {
      const fields = ['interactions', 'tasksCreated', 'tasksCompleted'];
      const owners = data.owners.filter((o) => kept('owner', o.ownerId));
      return {
        columns: ['ownerId', ...fields],
        rows: ownerRows(owners, fields, data.totals),
        option: barsOption(
          owners.map((o) => o.ownerId),
          fields.map((f) => [f, owners.map((o) => o[f])]),
        ),
      };
    },
  },
  {
    id: 'customer-value',
    title: 'Top customers by value',
    description:
      'The ten acquired customers with the most revenue (won deals and purchases), lifetime to date. Names as your role sees them.',
    report: 'customer-value',
    params: [],
    view(data) {
      const fields = ['revenue', 'wonDeals', 'wonRevenue', 'purchases', 'purchaseRevenue'];
      return {
        columns: ['name', ...fields],
        rows: data.top.map((c) => ({ cells: [c.name, ...fields.map((f) => c[f])] })),
        option: barsOption(
          data.top.map((c, i) => `${i + 1}. ${c.name}`),
          ['wonRevenue', 'purchaseRevenue'].map((f) => [f, data.top.map((c) => c[f])]),
        ),
      };
    },
  },
];

// ---- Rendering one chart: its state (data-state: idle, loading, ready, forbidden, error), table and plot.

function setState(chart, state, message = '') {
  chart.section.dataset.state = state;
  $('.status', chart.section).textContent = message;
}

function renderTable(table, columns, rows) {
  const head = document.createElement('thead');
  head.append(row('th', columns));
  const body = document.createElement('tbody');
  for (const line of rows) {
    const tr = row('td', line.cells);
    tr.classList.toggle('total', !!line.total);
    tr.classList.toggle('stalled', !!line.stalled);
    body.append(tr);
  }
  table.replaceChildren(head, body);
}

function row(tag, values) {
  const tr = document.createElement('tr');
  for (const value of values) {
    const td = document.createElement(tag);
    td.textContent = cell(value);
    if (typeof value === 'number') td.className = 'num';
    tr.append(td);
  }
  return tr;
}

/** Offers the owners and sources seen in the tables as the filters' suggestions. */
function suggest(chart, rows) {
  const kind = chart.filterBy?.(chart);
  if (!kind) return;
  const list = $(kind === 'owner' ? '#owners' : '#sources');
  const known = new Set([...list.options].map((o) => o.value));
  for (const { cells, total } of rows) {
    if (total || known.has(cells[0])) continue;
    known.add(cells[0]);
    list.append(new Option(cells[0]));
  }
}

/**
 * ECharts (1.1 MB) loads while the reports are fetched (an async script): fetching does not wait
 * for it, only drawing does. As a deferred script it held every report request back by a quarter
 * of a second (bench/README.md, "Dashboard").
 */
const chartsLibrary = new Promise((resolve, reject) => {
  if (window.echarts) return resolve();
  const script = document.querySelector('script[src$="/echarts.min.js"]');
  script.addEventListener('load', () => resolve(), { once: true });
  script.addEventListener('error', () => reject(new Error('the chart library did not load')), { once: true });
});

function render(chart) {
  const { columns, rows, option } = chart.view(chart.data, chart);
  setState(chart, 'ready', rows.length === 0 ? 'No data for these parameters.' : '');
  renderTable($('table', chart.section), columns, rows);
  suggest(chart, rows);
  chart.plot ??= echarts.init($('.plot', chart.section), null, { renderer: 'canvas' });
  chart.plot.setOption(option, true);
  chart.plot.resize();
}

async function load(chart) {
  const attempt = (chart.attempt = (chart.attempt ?? 0) + 1);
  chart.data = undefined;
  setState(chart, 'loading', 'Loading…');
  try {
    const data = await (await get(reportUrl(chart))).json();
    await chartsLibrary;
    if (attempt !== chart.attempt) return; // a newer request for this chart is on its way
    chart.data = data;
    render(chart);
  } catch (error) {
    if (attempt !== chart.attempt) return;
    showFailure(chart, error);
  }
}

function showFailure(chart, error) {
  if (error.status === 403) {
    const role = /role "([^"]+)"/.exec(error.message)?.[1] ?? 'unknown';
    return setState(chart, 'forbidden', `Not available for your role (${role}): ${error.message}`);
  }
  const hint = error.status === 401 ? ' Forget the key and enter another.' : '';
  setState(chart, 'error', `Could not load the report: ${error.message}.${hint}`);
}

/** Every chart at once: each renders as its report arrives, whatever the others do. */
function loadAll() {
  for (const chart of CHARTS) void load(chart);
}

// ---- CSV: the same report URL with format=csv (and the chart's table when it is not the report's default).

/** The download's progress is in the section's `data-csv` (pending, saved, failed), its error in the button. */
async function downloadCsv(chart) {
  const button = $('.download', chart.section);
  chart.section.dataset.csv = 'pending';
  const tables = (await csvTables).get(chart.report) ?? [];
  const wanted = chart.csvTable?.(chart);
  const table = wanted && tables.includes(wanted) && wanted !== tables[0] ? wanted : undefined;
  try {
    const response = await get(reportUrl(chart, { format: 'csv', ...(table ? { table } : {}) }));
    save(await response.blob(), `${chart.report}${table ? `-${table}` : ''}.csv`);
    button.textContent = 'Download CSV';
    chart.section.dataset.csv = 'saved';
  } catch (error) {
    button.textContent = `CSV failed: ${error.message}`;
    chart.section.dataset.csv = 'failed';
  }
}

function save(blob, filename) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the blob to the download; the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}

// ---- The page: chart sections from the template, the key and the controls.

function chartControls(chart) {
  const controls = [];
  if (chart.params.includes('asOf')) {
    const input = Object.assign(document.createElement('input'), {
      type: 'date',
      name: 'asOf',
      title: 'As of (start of the day, UTC); empty: now',
    });
    input.addEventListener('change', () => {
      chart.asOf = input.value;
      void load(chart);
    });
    controls.push(label('as of', input));
  }
  if (chart.groupByOptions) {
    const select = document.createElement('select');
    select.name = 'groupBy';
    select.append(new Option('none', ''), ...chart.groupByOptions.map((o) => new Option(o, o)));
    select.value = chart.groupBy;
    select.addEventListener('change', () => {
      chart.groupBy = select.value;
      void load(chart);
    });
    controls.push(label('group by', select));
  }
  return controls;
}

function label(text, control) {
  const element = document.createElement('label');
  element.append(`${text} `, control);
  return element;
}

function mount(chart) {
  const section = $('#chart-template').content.firstElementChild.cloneNode(true);
  section.id = `chart-${chart.id}`;
  section.dataset.report = chart.report;
  $('h2', section).textContent = chart.title;
  $('.description', section).textContent = chart.description;
  $('.chart-controls', section).append(...chartControls(chart));
  $('.download', section).addEventListener('click', () => void downloadCsv(chart));
  chart.section = section;
  $('#charts').append(section);
  setState(chart, 'idle', 'Enter an API key to load this report.');
}

function start() {
  loadCsvTables();
  loadAll();
}

function forget() {
  sessionStorage.removeItem(KEY_ITEM);
  for (const chart of CHARTS) {
    chart.attempt = (chart.attempt ?? 0) + 1; // drops any answer still on its way
    chart.data = undefined;
    setState(chart, 'idle', 'Enter an API key to load this report.');
  }
  showKeyState();
}

$('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('#key');
  sessionStorage.setItem(KEY_ITEM, input.value.trim());
  input.value = '';
  showKeyState();
  start();
});
$('#forget-key').addEventListener('click', forget);
$('#controls').addEventListener('submit', (event) => {
  event.preventDefault();
  if (heldKey() !== null) loadAll();
});
for (const id of ['#owner', '#source'])
  $(id).addEventListener('input', () => {
    for (const chart of CHARTS) if (chart.data) render(chart);
  });
window.addEventListener('resize', () => {
  for (const chart of CHARTS) chart.plot?.resize();
});

CHARTS.forEach(mount);
showKeyState();
if (heldKey() !== null) start();
