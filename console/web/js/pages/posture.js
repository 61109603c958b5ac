import { api } from '../api.js';
import { t, formatTime, getLang, localMessage, localName, localTitle } from '../i18n.js';
import { href } from '../router.js';
import { h, clear, load, empty, table, badge, errorBox } from '../ui.js';

let charts = [];

/** ECharts draws on canvas; each chart is disposed when the page is drawn again. */
function chart(el, option) {
  if (!window.echarts) { el.append(empty()); return; }
  const instance = window.echarts.init(el, undefined, { renderer: 'canvas' });
  // Tooltips drawn on the canvas (richText): HTML tooltips would need inline styles, which the CSP forbids.
  const tooltip = option.tooltip ? { ...option.tooltip, renderMode: 'richText' } : undefined;
  instance.setOption({ animation: false, textStyle: { fontFamily: 'system-ui, "Noto Sans CJK SC", sans-serif' }, ...option, tooltip });
  charts.push(instance);
}

function disposeCharts() {
  for (const instance of charts) instance.dispose();
  charts = [];
}
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

const scoreClass = (score) => (score >= 60 ? 'risk-high' : score >= 30 ? 'risk-medium' : 'risk-low');
// No data is not a safe 0: it says so, in grey.
const scoreCell = (item) => (item.noData ? h('span', { class: 'score no-data', title: t('noDataWhy') }, t('noData'))
  : h('span', { class: `score ${scoreClass(item.score)}` }, String(item.score)));
/** Riskiest first, those with no data last, then by id: as the API ranks them. */
const byRisk = (a, b) => Number(Boolean(a.noData)) - Number(Boolean(b.noData)) || b.score - a.score || a.id.localeCompare(b.id);
const components = (item) => `${t('alertPoints')} ${item.components?.alerts ?? 0} · ${t('backupPoints')} ${item.components?.backup ?? 0} · ${t('coveragePoints')} ${item.components?.coverage ?? 0}`;

/** Where a reason leads: the alerts of that rule, the backup page, or the system's events. */
function reasonLink(reason, departmentId) {
  if (reason.kind === 'alert') return href('alerts', undefined, { system: reason.system, rule: reason.ref, status: 'new,acknowledged,in_progress' });
  if (reason.kind === 'backup' || reason.kind === 'drill') return href('backups', undefined, { system: reason.system });
  return href('posture', departmentId, { system: reason.system });
}
// An alert reason's English text still carries the bilingual rule title: keep its English half.
const reasonText = (reason) => (getLang() === 'en' && reason.textEn ? localMessage(reason.textEn) : reason.text);

/** The heaviest reasons as links, each with the points it alone would give; a department's say whose system (`names`: id → name). */
function reasonList(item, departmentId, limit = 3, names = undefined) {
  const reasons = (item.reasons ?? []).slice(0, limit);
  if (!reasons.length) return h('span', { class: 'muted' }, t(item.noData ? 'noDataWhy' : 'noProblems'));
  return h('ul', { class: 'reasons' }, reasons.map((reason) => h('li', {},
    h('span', { class: `score ${scoreClass(reason.points)}` }, String(reason.points)), ' ',
    names?.has(reason.system) ? h('span', { class: 'reason-system' }, `${names.get(reason.system)}${t('colon')}`) : null,
    h('a', { href: reasonLink(reason, departmentId ?? item.department) }, reasonText(reason)))));
}

const systemNames = (posture) => new Map(posture.systems.map((s) => [s.id, localName(s)]));

const CHART_ROWS_MAX = 40;

export function render(main, ctx, route) {
  disposeCharts();
  const system = route.params.get('system');
  if (system) renderSystem(main, ctx, route.id, system);
  else if (route.id) renderDepartment(main, ctx, route.id);
  else renderOverview(main);
}

function renderOverview(main) {
  const scores = h('section', { 'aria-labelledby': 'dept-h' });
  const trend = h('section', { 'aria-labelledby': 'trend-h', class: 'half' });
  const top = h('section', { 'aria-labelledby': 'top-h', class: 'half' });
  clear(main, h('h1', {}, t('posture')), scores, h('div', { class: 'row' }, trend, top));
  load(scores, async (el) => {
    drawScores(el, await api.get('/api/posture'));
    refreshScores(el);
  });
  load(trend, async (el) => {
    clear(el, h('h2', { id: 'trend-h' }, t('riskTrend')));
    try {
      const { days } = await api.get('/api/posture/trend', { days: 30 });
      if (!days.length) { el.append(empty()); return; }
      const box = h('div', { class: 'chart', id: 'trend-chart', role: 'img', 'aria-label': t('riskTrend') });
      el.append(box);
      const sum = (day, key) => day.departments.reduce((n, d) => n + (d[key] ?? 0), 0);
      const peak = (day) => day.departments.reduce((n, d) => Math.max(n, d.alertRisk ?? 0), 0);
      // Counts and risk have different units: two axes, the risk one fixed at 0–100.
      chart(box, {
        grid: { left: 40, right: 50, top: 40, bottom: 30 }, tooltip: { trigger: 'axis' }, legend: { top: 0 },
        xAxis: { type: 'category', data: days.map((d) => d.day.slice(5)) },
        yAxis: [{ type: 'value', name: t('alertCounts'), minInterval: 1 }, { type: 'value', name: t('riskAxis'), min: 0, max: 100 }],
        series: [
          { type: 'bar', name: t('alertsPerDay'), data: days.map((d) => sum(d, 'alerts')) },
          { type: 'bar', name: t('openAlerts'), data: days.map((d) => sum(d, 'open')) },
          { type: 'line', name: t('alertRiskPeak'), yAxisIndex: 1, data: days.map(peak) },
        ],
      });
    } catch (error) {
      el.append(errorBox(error));
    }
  });
  load(top, async (el) => {
    clear(el, h('h2', { id: 'top-h' }, t('topRisks')));
    try {
      const data = await api.get('/api/posture/top');
      el.append(data.systems.length ? h('ol', { class: 'top-risks', id: 'top-risks' }, data.systems.slice(0, 10).map((item) => h('li', {},
        scoreCell(item), ' ',
        h('a', { href: href('posture', item.department, { system: item.id }) }, localName(item)),
        reasonList(item, item.department, 2)))) : empty());
    } catch (error) {
      el.append(errorBox(error));
    }
  });
}

/** The ranking, its bar chart and heat map, and the table, drawn into `el` (again on each refresh). */
function drawScores(el, posture) {
  const departments = [...posture.departments].sort(byRisk);
  const ofSystem = systemNames(posture);
  const bar = h('div', { class: 'chart', id: 'department-chart', role: 'img', 'aria-label': t('riskByDepartment') });
  const heat = h('div', { class: 'chart', id: 'department-heat', role: 'img', 'aria-label': components({}) });
  clear(el, h('h2', { id: 'dept-h' }, t('riskByDepartment'), h('small', {}, ` · ${formatTime(posture.at)}`)),
    departments.length ? [h('div', { class: 'row' }, bar, heat), h('div', { class: 'scroll tall' }, table([
      { title: t('department'), cell: (d) => h('a', { href: href('posture', d.id) }, localName(d)) },
      { title: t('score'), cell: scoreCell },
      { title: t('systems'), cell: (d) => String(d.systems) },
      { title: t('openAlerts'), cell: (d) => String(d.openAlerts) },
      { title: t('silentSources'), cell: (d) => `${d.sources?.silent ?? 0} / ${d.sources?.expected ?? 0}` },
      { title: t('reasons'), cell: (d) => reasonList(d, d.id, 3, ofSystem) },
    ], departments))] : empty());
  if (!departments.length) return;
  // Every department when they fit; otherwise the riskiest, and the chart says how many of how many.
  const shown = departments.slice(0, CHART_ROWS_MAX).reverse();
  const title = departments.length > shown.length ? { text: t('shownOf', shown.length, departments.length), textStyle: { fontSize: 12 } } : undefined;
  const rowsHeight = Math.max(240, 22 * shown.length + 60);
  bar.style.height = heat.style.height = `${rowsHeight}px`;
  const names = shown.map(localName);
  chart(bar, {
    ...(title ? { title } : {}),
    grid: { left: 150, right: 20, top: title ? 30 : 10, bottom: 24 }, tooltip: {},
    xAxis: { type: 'value', max: 100 }, yAxis: { type: 'category', data: names, axisLabel: { width: 140, overflow: 'truncate', interval: 0 } },
    // The value at each bar's end: a department at 0 shows "0", not an empty row that looks like missing data.
    series: [{ type: 'bar', label: { show: true, position: 'right' }, data: shown.map((d) => (d.noData
      ? { value: 0, label: { formatter: t('noData'), color: '#888' } }
      : { value: d.score, itemStyle: { color: d.score >= 60 ? '#c0392b' : d.score >= 30 ? '#e67e22' : '#27ae60' } })) }],
  });
  const parts = ['alerts', 'backup', 'coverage'];
  const partNames = [t('alertPoints'), t('backupPoints'), t('coveragePoints')];
  // Each column on its own scale: the colour is the share of that column's highest value, the label the value.
  const maxOf = parts.map((p) => Math.max(1, ...shown.map((d) => d.components?.[p] ?? 0)));
  chart(heat, {
    title: { text: t('columnScale'), textStyle: { fontSize: 12, fontWeight: 'normal' }, bottom: 0, left: 'center' },
    grid: { left: 150, right: 20, top: 30, bottom: 40 }, tooltip: {},
    xAxis: { type: 'category', data: partNames, position: 'top' }, yAxis: { type: 'category', data: names, axisLabel: { width: 140, overflow: 'truncate', interval: 0 } },
    visualMap: { show: false, min: 0, max: 1, dimension: 2, inRange: { color: ['#eef6ee', '#f5c542', '#c0392b'] } },
    series: [{
      type: 'heatmap', label: { show: true, formatter: (p) => String(p.data[3]) },
      data: shown.flatMap((d, y) => parts.map((p, x) => (d.noData ? [x, y, 0, '—'] : [x, y, (d.components?.[p] ?? 0) / maxOf[x], d.components?.[p] ?? 0]))),
    }],
  });
}

/** How often the overview asks for the posture again: the living demo and real incidents move it while one watches. */
const REFRESH_MS = 15_000;

/** Redraws the scores in place while they are on screen; stops once the page is left (the section is gone). */
function refreshScores(el) {
  setTimeout(async () => {
    if (!el.isConnected) return;
    try {
      const posture = await api.get('/api/posture');
      if (!el.isConnected) return;
      charts = charts.filter((instance) => (el.contains(instance.getDom()) ? (instance.dispose(), false) : true));
      // The table keeps where it was scrolled to.
      const scrolled = el.querySelector('.scroll')?.scrollTop ?? 0;
      drawScores(el, posture);
      const table = el.querySelector('.scroll');
      if (table) table.scrollTop = scrolled;
    } catch {
      // A failed refresh keeps the last picture; the next one tries again.
    }
    refreshScores(el);
  }, REFRESH_MS);
}

function renderDepartment(main, ctx, departmentId) {
  load(main, async (el) => {
    const posture = await api.get('/api/posture');
    const department = posture.departments.find((d) => d.id === departmentId);
    const systems = posture.systems.filter((s) => s.department === departmentId).sort(byRisk);
    clear(el,
      h('p', {}, h('a', { href: '#/posture' }, t('backTo', t('posture')))),
      h('h1', {}, `${t('department')}${t('colon')}${localName(department) ?? departmentId}`),
      department ? h('p', {}, t('score'), ' ', scoreCell(department), ' · ', components(department)) : null,
      department ? h('section', { 'aria-label': t('reasons') }, h('h2', {}, t('reasons')), reasonList(department, departmentId, 10, systemNames(posture))) : null,
      h('h2', {}, t('systems')),
      systems.length ? h('div', { class: 'scroll' }, table([
        { title: t('system'), cell: (s) => h('a', { href: href('posture', departmentId, { system: s.id }) }, localName(s)) },
        { title: t('score'), cell: scoreCell },
        { title: t('mlpsLevel'), cell: (s) => String(s.mlpsLevel) },
        { title: t('openAlerts'), cell: (s) => String(s.openAlerts) },
        { title: t('sameCity'), cell: (s) => backupCell(s.backup, 'same-city') },
        { title: t('offSite'), cell: (s) => backupCell(s.backup, 'off-site') },
        { title: t('silentSources'), cell: (s) => (s.sources?.silent ?? []).join(t('listSep')) || '—' },
        { title: t('reasons'), cell: (s) => reasonList(s, departmentId) },
      ], systems)) : empty(),
      h('p', {}, h('a', { href: href('alerts', undefined, { department: departmentId, status: '' }) }, t('viewAlerts')), ' · ',
        h('a', { href: href('events', undefined, { department: departmentId }) }, t('viewEvents'))));
  });
}

function backupCell(backup, site) {
  if (!backup?.policy) return '—';
  const status = backup.sites?.[site];
  return status ? badge(status) : h('span', { class: 'muted' }, t('noCheck'));
}

function renderSystem(main, ctx, departmentId, systemId) {
  load(main, async (el) => {
    // The drill-down carries the same posture fields as /api/posture (backup state included); `inventory` is the asset record.
    const data = await api.get(`/api/posture/systems/${encodeURIComponent(systemId)}`);
    const system = { ...data, inventory: data.system, sources: { silent: data.sources.filter((s) => s.silent).map((s) => s.name) }, byDataset: data.events?.byDataset };
    const alerts = h('section', {}, h('h2', {}, t('recentAlerts')));
    const events = h('section', {}, h('h2', {}, t('recentEvents')));
    clear(el,
      h('p', {}, h('a', { href: href('posture', departmentId) }, t('backTo', t('department')))),
      h('h1', {}, `${t('system')}${t('colon')}${localName(system) ?? systemId}`),
      system ? h('dl', { class: 'facts' },
        h('dt', {}, t('score')), h('dd', {}, scoreCell(system)),
        h('dt', {}, t('scoreComponents')), h('dd', {}, components(system)),
        h('dt', {}, t('reasons')), h('dd', {}, reasonList(system, departmentId, 10)),
        h('dt', {}, t('mlpsLevel')), h('dd', {}, String(system.mlpsLevel ?? '—')),
        h('dt', {}, t('openAlerts')), h('dd', {}, String(system.openAlerts ?? 0)),
        h('dt', {}, t('sameCity')), h('dd', {}, backupCell(system.backup, 'same-city')),
        h('dt', {}, t('offSite')), h('dd', {}, backupCell(system.backup, 'off-site')),
        h('dt', {}, t('silentSources')), h('dd', {}, (system.sources?.silent ?? []).join(t('listSep')) || '—'),
        h('dt', {}, t('eventsByDataset')), h('dd', {}, (system.byDataset ?? []).map((b) => `${b.key} ${b.count}`).join(t('listSep')) || '—')) : null,
      alerts, events);
    const alertList = h('div');
    alerts.append(alertList, h('a', { href: href('alerts', undefined, { system: systemId }) }, t('viewAlerts')));
    load(alertList, async (box) => {
      const page = await api.get('/api/alerts', { system: systemId, size: 10 });
      clear(box, page.items.length ? table([
        { title: t('level'), cell: (a) => badge(a.rule.level) },
        { title: t('title'), cell: (a) => h('a', { href: href('alerts', a.id) }, localTitle(a.rule.title)) },
        { title: t('status'), cell: (a) => badge(a.status) },
        { title: t('lastSeen'), cell: (a) => formatTime(a.lastSeen) },
      ], page.items) : empty());
    });
    if (!ctx.can('events:read')) return;
    const eventList = h('div');
    events.append(eventList, h('a', { href: href('events', undefined, { system: systemId }) }, t('viewEvents')));
    load(eventList, async (box) => {
      const page = await api.get('/api/events', { system: systemId, size: 10 });
      clear(box, page.items.length ? table([
        { title: t('time'), cell: (e) => h('a', { href: href('events', e.id) }, formatTime(e['@timestamp'])) },
        { title: t('message'), cell: (e) => e.message ?? '' },
      ], page.items) : empty());
    });
  });
}

