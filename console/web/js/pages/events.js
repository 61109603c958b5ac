import { api } from '../api.js';
import { t, formatTime, localToIso, getLang } from '../i18n.js';
import { href } from '../router.js';
import { h, clear, load, empty, field, select, table, pager, errorBox } from '../ui.js';

export function render(main, ctx, route) {
  disposeCharts();
  if (route.id) renderDetail(main, route.id);
  else renderSearch(main, ctx, route.params);
}

const get = (object, path) => path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);

/** Fields the sidebar always offers; fields seen in the current page of results are added after them. */
const SIDEBAR_FIELDS = ['shouwang.system', 'host.name', 'process.name', 'user.name', 'source.ip', 'event.action', 'event.dataset', 'event.outcome', 'db.name', 'url.path'];
const NOT_IN_SIDEBAR = new Set(['@timestamp', 'id', 'message', 'event.original', 'shouwang.department']);
const SIDEBAR_MAX = 30;

let charts = [];
/** ECharts on canvas, as the posture page draws: tooltips as rich text, since the CSP forbids inline styles. */
function chart(el, option) {
  if (!window.echarts) { el.append(empty()); return undefined; }
  const instance = window.echarts.init(el, undefined, { renderer: 'canvas' });
  const tooltip = option.tooltip ? { ...option.tooltip, renderMode: 'richText' } : undefined;
  instance.setOption({ animation: false, textStyle: { fontFamily: 'system-ui, "Noto Sans CJK SC", sans-serif' }, ...option, tooltip });
  charts.push(instance);
  // The sidebar fills in after the chart is drawn and can change its width: follow the box, not the window.
  new window.ResizeObserver(() => { if (!instance.isDisposed()) instance.resize(); }).observe(el);
  return instance;
}
function disposeCharts() {
  for (const instance of charts) instance.dispose();
  charts = [];
}

/** `field:"value"` with the quote and backslash escaped, so any value reads back as itself. */
const term = (name, value) => `${name}:"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** The query with one more condition ANDed on; an OR query is kept whole in parentheses. */
export function addCondition(query, condition) {
  const current = (query ?? '').trim();
  if (!current) return condition;
  return /\bOR\b/.test(current) ? `(${current}) ${condition}` : `${current} ${condition}`;
}

/** Dotted paths of the scalar leaves of an event (arrays of scalars count as their field). */
function leafPaths(object, prefix = '', out = new Set()) {
  for (const [key, value] of Object.entries(object ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) leafPaths(value, path, out);
    else out.add(path);
  }
  return out;
}

/** The column the server named in a query error ("column 12"), or undefined. */
const errorColumn = (error) => {
  const match = /column (\d+)/.exec(String(error?.message ?? ''));
  return error?.code === 'SW_ERR_STORE_INVALID_QUERY' && match ? Number(match[1]) : undefined;
};

/** The query with the character at the error's column marked, and the server's message. */
function queryError(query, error) {
  const column = errorColumn(error);
  if (column === undefined) return errorBox(error);
  const at = Math.min(column - 1, query.length);
  return h('div', { class: 'error query-error', role: 'alert', id: 'query-error' },
    // The store's message is "查询无效 / invalid query: 第 n 列：… / column n: …": show the reason in the page's language.
    h('p', {}, t('queryError'), languageHalf(String(error.message).replace(/^.*?invalid query: /, ''))),
    h('pre', { class: 'query-text' }, query.slice(0, at), h('mark', {}, query.slice(at, at + 1) || ' '), query.slice(at + 1)));
}

/** "中文 / English": the half for the page's language (the reason names the column in both). */
function languageHalf(text) {
  const at = text.indexOf(' / ');
  if (at < 0) return text;
  return getLang() === 'en' ? text.slice(at + 3) : text.slice(0, at);
}

function renderSearch(main, ctx, params) {
  const form = h('div', { id: 'event-form' });
  const problem = h('div', { id: 'query-problem' });
  const histogram = h('section', { id: 'event-histogram', 'aria-label': t('histogram') });
  const sidebar = h('aside', { id: 'field-sidebar', class: 'field-sidebar', 'aria-label': t('fieldSidebar') });
  const results = h('section', { id: 'event-results', 'aria-live': 'polite' });
  clear(main, h('h1', {}, t('events')), form, problem, h('div', { class: 'discover' }, sidebar, h('div', { class: 'discover-main' }, histogram, results)));

  const q = params.get('q') ?? '';
  const go = (changes) => {
    const search = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value) search.set(name, value);
      else search.delete(name);
    }
    location.hash = `#/events${search.toString() ? `?${search}` : ''}`;
  };

  load(form, async (el) => {
    const inv = await ctx.inventory();
    const input = h('input', {
      name: 'q', id: 'event-query', type: 'search', value: q, class: 'query-input', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'sshd   user.name:adm*   http.response.status_code:[400 TO 499]   NOT event.outcome:success', 'aria-describedby': 'q-hint',
    });
    const opt = (items, kind) => [['', t('any')], ...items.map((item) => [item.id, ctx.name(kind, item.id, inv)])];
    const department = select('department', opt(inv.departments, 'department'), params.get('department') ?? '');
    const system = select('system', opt(inv.systems, 'system'), params.get('system') ?? '');
    const from = h('input', { name: 'from', type: 'datetime-local', value: params.get('from') ?? '' });
    const to = h('input', { name: 'to', type: 'datetime-local', value: params.get('to') ?? '' });
    clear(el, h('form', { class: 'filters', role: 'search', onsubmit: (event) => {
      event.preventDefault();
      go({ q: input.value.trim(), department: department.value, system: system.value, from: from.value, to: to.value });
    } },
    h('div', { class: 'query-row' }, field(t('query'), input), h('button', { type: 'submit', class: 'primary', id: 'event-search' }, t('search'))),
    h('p', { id: 'q-hint', class: 'hint query-hint' }, t('queryHint')),
    field(t('department'), department), field(t('system'), system), field(t('from'), from), field(t('to'), to),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('apply')), h('a', { href: '#/events', class: 'button' }, t('reset')))));
  });

  const query = {
    q: q || undefined, department: params.get('department') ?? undefined, system: params.get('system') ?? undefined,
    from: localToIso(params.get('from')), to: localToIso(params.get('to')), filter: params.getAll('filter'),
  };
  /** A query error is shown once, above everything, with its column marked; the panels stay empty. */
  const failed = (error) => {
    if (errorColumn(error) === undefined) throw error;
    clear(problem, queryError(q, error));
    return true;
  };

  load(histogram, async (el) => {
    let data;
    try {
      data = await api.get('/api/events/histogram', query);
    } catch (error) {
      if (failed(error)) { clear(el); return; }
    }
    const total = data.buckets.reduce((n, b) => n + b.count, 0);
    clear(el, h('h2', { class: 'panel-title' }, t('histogram'), ' ', h('span', { class: 'muted' }, t('histogramInterval', intervalText(data.interval), total))));
    if (!data.buckets.length) { el.append(empty()); return; }
    const box = h('div', { class: 'chart chart-short', id: 'histogram-chart', role: 'img', 'aria-label': t('histogramLabel', total) });
    el.append(box);
    const buckets = everyBucket(data);
    const instance = chart(box, {
      grid: { left: 48, right: 16, top: 16, bottom: 28 }, tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: buckets.map((b) => formatTime(b.start).slice(5, 16)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: t('eventCount'), data: buckets.map((b) => b.count), itemStyle: { color: '#2f6fb0' } }],
    });
    // A click on a bar narrows the time range to that bucket.
    instance?.on('click', (point) => {
      const bucket = buckets[point.dataIndex];
      if (!bucket) return;
      const start = Date.parse(bucket.start);
      const local = (ms) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16);
      go({ from: local(start), to: local(start + data.interval) });
    });
  });

  const showSidebar = (items) => {
    const seen = new Set(SIDEBAR_FIELDS);
    for (const item of items) for (const path of leafPaths(item)) if (!NOT_IN_SIDEBAR.has(path)) seen.add(path);
    const fields = [...seen].slice(0, SIDEBAR_MAX);
    clear(sidebar, h('h2', { class: 'panel-title' }, t('fieldSidebar')), h('ul', { class: 'field-list' }, fields.map((name) => {
      const values = h('div', { class: 'field-values' });
      const toggle = h('button', { type: 'button', class: 'field-name', 'data-field': name, 'aria-expanded': 'false', onclick: () => {
        const open = toggle.getAttribute('aria-expanded') !== 'true';
        toggle.setAttribute('aria-expanded', String(open));
        if (!open) { clear(values); return; }
        load(values, async (box) => {
          const { buckets } = await api.get('/api/events/top', { ...query, field: name, size: 5 });
          const most = buckets.reduce((n, b) => Math.max(n, b.count), 0) || 1;
          clear(box, buckets.length ? h('ol', { class: 'top-values' }, buckets.map((b) => h('li', {},
            h('button', { type: 'button', class: 'link top-value', title: t('addToQuery', term(name, b.key)), onclick: () => go({ q: addCondition(q, term(name, b.key)) }) }, b.key),
            h('meter', { min: 0, max: most, value: b.count }), h('span', { class: 'muted count' }, String(b.count))))) : empty());
        });
      } }, name);
      return h('li', {}, toggle, values);
    })));
  };

  const show = (cursors, after) => load(results, async (el) => {
    let page;
    try {
      page = await api.get('/api/events', { ...query, size: 50, ...(after ? { after } : {}) });
    } catch (error) {
      if (failed(error)) { clear(el); clear(sidebar); return; }
    }
    const inv = await ctx.inventory();
    if (!cursors.length) showSidebar(page.items);
    const columns = [
      { title: t('time'), cell: (e) => h('a', { href: href('events', e.id) }, formatTime(e['@timestamp'])) },
      { title: t('department'), cell: (e) => ctx.name('department', get(e, 'shouwang.department'), inv) },
      { title: t('system'), cell: (e) => ctx.name('system', get(e, 'shouwang.system'), inv) },
      { title: t('host'), cell: (e) => get(e, 'host.name') ?? '—' },
      { title: t('process'), cell: (e) => get(e, 'process.name') ?? '—' },
      { title: t('user'), cell: (e) => get(e, 'user.name') ?? '—' },
      { title: t('outcome'), cell: (e) => get(e, 'event.outcome') ?? '—' },
      { title: t('message'), cell: (e) => h('span', { class: 'message' }, e.message ?? '') },
    ];
    clear(el, page.items.length ? h('div', { class: 'scroll' }, table(columns, page.items)) : empty(), pager(page, cursors, show));
  });
  show([], undefined);
}

/** The store returns non-empty buckets only; the chart shows the empty ones too, so a gap looks like a gap. */
function everyBucket(data) {
  const counts = new Map(data.buckets.map((b) => [Date.parse(b.start), b.count]));
  const first = Math.min(Date.parse(data.from), Date.parse(data.buckets[0].start));
  const last = Math.max(Date.parse(data.to) - 1, Date.parse(data.buckets[data.buckets.length - 1].start));
  const out = [];
  for (let at = first - (first % data.interval); at <= last && out.length < 1000; at += data.interval) {
    out.push({ start: new Date(at).toISOString(), count: counts.get(at) ?? 0 });
  }
  return out;
}

function intervalText(ms) {
  const units = [[86_400_000, t('unitDay')], [3_600_000, t('unitHour')], [60_000, t('unitMinute')], [1000, t('unitSecond')]];
  const [size, unit] = units.find(([size]) => ms % size === 0) ?? units[units.length - 1];
  return `${ms / size} ${unit}`;
}

function renderDetail(main, id) {
  load(main, async (el) => {
    const event = await api.get(`/api/events/${encodeURIComponent(id)}`);
    clear(el,
      h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => history.back() }, t('backTo', t('events')))),
      h('h1', {}, `${t('eventDetail')}${t('colon')}${formatTime(event['@timestamp'])}`),
      h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(event, null, 2)));
  });
}
