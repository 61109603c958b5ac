import { api } from '../api.js';
import { t, label, formatTime, localMessage, localTitle, localToIso, getLang } from '../i18n.js';
import { href, navigate } from '../router.js';
import { h, clear, load, empty, field, select, badge, table, pager, errorBox } from '../ui.js';

const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'];
const STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'];
const MLPS_LEVELS = ['4', '3', '2', '1'];
const FILTERS = ['level', 'status', 'mlpsLevel', 'department', 'system', 'rule', 'mlps', 'from', 'to', 'suppressed'];
/** Suppressed alerts: hidden unless asked for (the API's default too). */
const SUPPRESSED = [['', 'suppressedHide'], ['show', 'suppressedShow'], ['only', 'suppressedOnly']];
/** Hash parameters that shape the view but are not filters; they survive "apply" and "reset" keeps none. */
const VIEW = ['sort', 'order', 'group', 'size'];
const PAGE_SIZES = ['25', '50', '100'];
const ACTIONS = [['acknowledged', 'acknowledge'], ['in_progress', 'startWork'], ['resolved', 'resolve'], ['false_positive', 'falsePositive'], ['assign', 'assign']];
/** The same transitions as core/alert.ts: the triage form offers only the statuses the API accepts. */
const NEXT = {
  new: ['acknowledged', 'in_progress', 'resolved', 'false_positive'],
  acknowledged: ['in_progress', 'resolved', 'false_positive'],
  in_progress: ['acknowledged', 'resolved', 'false_positive'],
  resolved: ['in_progress'],
  false_positive: ['in_progress'],
};
/** Status names on the timeline (新建/确认/处置中/已解决/误报). */
const STATUS_WORD = { new: 'tlNew', acknowledged: 'tlAcknowledged', in_progress: 'tlInProgress', resolved: 'tlResolved', false_positive: 'tlFalsePositive' };

export function render(main, ctx, route) {
  if (route.id) renderDetail(main, ctx, route.id);
  else renderList(main, ctx, route.params);
}

const paramsObject = (params) => Object.fromEntries([...params.entries()]);

/** The filter form writes its values into the hash, so a filtered list can be linked and reloaded. */
function filterForm(inv, rules, params, ctx) {
  const opt = (values, labeller = label) => [['', t('any')], ...values.map((v) => [v, labeller(v)])];
  const controls = {
    level: checkGroup('level', LEVELS, params.get('level'), label),
    status: checkGroup('status', STATUSES, params.get('status'), label),
    mlpsLevel: checkGroup('mlpsLevel', MLPS_LEVELS, params.get('mlpsLevel'), (v) => t('mlpsLevelN', v)),
    department: select('department', opt(inv.departments.map((d) => d.id), (id) => ctx.name('department', id, inv)), params.get('department') ?? ''),
    system: select('system', opt(inv.systems.map((s) => s.id), (id) => ctx.name('system', id, inv)), params.get('system') ?? ''),
    rule: ruleSelect(rules, params.get('rule') ?? ''),
    mlps: h('input', { name: 'mlps', value: params.get('mlps') ?? '', size: 10, placeholder: '8.1.4.3' }),
    from: h('input', { name: 'from', type: 'datetime-local', value: params.get('from') ?? '' }),
    to: h('input', { name: 'to', type: 'datetime-local', value: params.get('to') ?? '' }),
    suppressed: select('suppressed', SUPPRESSED.map(([v, key]) => [v, t(key)]), params.get('suppressed') ?? '', { id: 'filter-suppressed' }),
  };
  const view = Object.fromEntries(VIEW.filter((name) => params.get(name)).map((name) => [name, params.get(name)]));
  return h('form', { class: 'filters', 'aria-label': t('filters'), onsubmit: (event) => {
    event.preventDefault();
    navigate('alerts', undefined, { ...Object.fromEntries(FILTERS.map((name) => [name, controls[name].value])), ...view });
  } },
  FILTERS.map((name) => (controls[name].tagName === 'FIELDSET' ? controls[name] : field(t(name), controls[name]))),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary' }, t('apply')),
    h('a', { href: '#/alerts', class: 'button' }, t('reset'))));
}

/** The rules that have alerts (in the caller's scope), by title; a rule from a link is kept even when it has none. */
function ruleSelect(rules, current) {
  const options = rules.map((g) => [g.key, g.title ? localTitle(g.title) : g.key]).sort((a, b) => a[1].localeCompare(b[1], 'zh-CN'));
  if (current && !options.some(([key]) => key === current)) options.unshift([current, current]);
  return select('rule', [['', t('any')], ...options], current, { class: 'rule-select' });
}

/** Checkboxes for a filter that takes several values; its value is the checked ones joined by commas, as the API reads them. */
function checkGroup(name, values, current, labeller) {
  const chosen = new Set((current ?? '').split(',').filter(Boolean));
  const boxes = values.map((v) => h('input', { type: 'checkbox', name, value: v, checked: chosen.has(v) }));
  const group = h('fieldset', { class: 'field checks' }, h('legend', {}, t(name)), values.map((v, i) => h('label', {}, boxes[i], labeller(v))));
  Object.defineProperty(group, 'value', { get: () => boxes.filter((box) => box.checked).map((box) => box.value).join(',') });
  return group;
}

function listQuery(params) {
  const query = {};
  for (const name of ['level', 'status', 'mlpsLevel', 'department', 'system', 'rule', 'mlps', 'suppressed']) if (params.get(name)) query[name] = params.get(name);
  for (const name of ['from', 'to']) if (params.get(name)) query[name] = localToIso(params.get(name));
  return query;
}

/** View switches above the list: grouping (none, by rule, by system) and page size, kept in the hash. */
function viewBar(params) {
  const group = params.get('group') ?? '';
  const go = (changes) => navigate('alerts', undefined, { ...paramsObject(params), ...changes });
  const tabs = [['', 'groupNone'], ['rule', 'groupByRule'], ['system', 'groupBySystem']].map(([value, key]) =>
    h('button', { type: 'button', class: group === value ? 'tab current' : 'tab', 'aria-pressed': String(group === value), 'data-group': value || 'none',
      onclick: () => go({ group: value }) }, t(key)));
  const current = String(pageSizeOf(params));
  const sizes = PAGE_SIZES.includes(current) ? PAGE_SIZES : [current, ...PAGE_SIZES];
  const size = select('size', sizes.map((s) => [s, s]), current, { id: 'page-size', onchange: (e) => go({ size: e.target.value }) });
  return h('div', { class: 'view-bar' },
    h('span', { class: 'hint' }, t('groupBy')), h('div', { class: 'tabs', role: 'group', 'aria-label': t('groupBy') }, tabs),
    group ? null : field(t('pageSize'), size));
}

/** Any size 1–100 from a link; the menu offers 25, 50 and 100. */
function pageSizeOf(params) {
  const size = Number(params.get('size'));
  return Number.isInteger(size) && size >= 1 && size <= 100 ? size : 25;
}

function renderList(main, ctx, params) {
  const results = h('section', { 'aria-live': 'polite', id: 'alert-results' });
  const selected = new Set();
  const group = params.get('group');
  clear(main, h('h1', {}, t('alerts')), h('div', { id: 'alert-filters' }), viewBar(params), results);
  load(main.querySelector('#alert-filters'), async (el) => {
    const [inv, { groups: rules }] = await Promise.all([ctx.inventory(), api.get('/api/alerts/groups', { by: 'rule' })]);
    clear(el, filterForm(inv, rules, params, ctx));
  });
  const query = listQuery(params);
  if (group === 'rule' || group === 'system') {
    load(results, async (el) => {
      const [{ groups }, inv] = await Promise.all([api.get('/api/alerts/groups', { ...query, by: group }), ctx.inventory()]);
      clear(el, groups.length ? groupTable(groups, group, params, inv, ctx) : empty());
    });
    return;
  }
  const size = pageSizeOf(params);
  const sort = { field: params.get('sort') ?? 'priority', order: params.get('order') ?? 'desc' };
  const tableBox = h('div');
  let current = { cursors: [], after: undefined };
  const show = (cursors, after) => {
    current = { cursors, after };
    selected.clear();
    return load(tableBox, async (el) => {
      const [page, inv] = await Promise.all([
        api.get('/api/alerts', { ...query, sort: sort.field, order: sort.order, size, ...(after ? { after } : {}) }), ctx.inventory(),
      ]);
      bar?.refresh();
      clear(el, page.items.length ? alertTable(page.items, inv, ctx, params, sort, selected, () => bar?.refresh()) : empty(), pager(page, cursors, show));
    });
  };
  const bar = ctx.can('alerts:triage') ? bulkBar(selected, () => show(current.cursors, current.after)) : undefined;
  clear(results, bar?.form, tableBox);
  show([], undefined);
  // Below the list, apart from it: only when some are active.
  const suppressions = h('section', { 'aria-labelledby': 'suppressions-h', id: 'suppressions' });
  main.append(suppressions);
  showSuppressions(suppressions, ctx);
}

/** The active suppressions in the caller's departments; officers end one early here. */
function showSuppressions(el, ctx) {
  return load(el, async (target) => {
    const [{ items }, inv] = await Promise.all([api.get('/api/suppressions'), ctx.inventory()]);
    if (!items.length) { clear(target); return; }
    const end = (s) => h('button', { type: 'button', class: 'end-suppression', 'data-id': s.id, onclick: async (event) => {
      event.target.disabled = true;
      try {
        await api.delete(`/api/suppressions/${encodeURIComponent(s.id)}`);
        await showSuppressions(el, ctx);
      } catch (error) {
        event.target.replaceWith(errorBox(error));
      }
    } }, t('endSuppression'));
    clear(target, h('h2', { id: 'suppressions-h' }, t('suppressions')), h('div', { class: 'scroll short' }, table([
      { title: t('rule'), cell: (s) => [s.ruleTitle ? `${localTitle(s.ruleTitle)} ` : '', h('code', {}, s.ruleId)] },
      { title: t('groupKey'), cell: (s) => (s.groupKey ? h('code', {}, s.groupKey) : t('any')) },
      { title: t('department'), cell: (s) => ctx.name('department', s.department, inv) },
      { title: t('reason'), cell: (s) => s.reason },
      { title: t('createdBy'), cell: (s) => s.createdBy },
      { title: t('expiresAt'), cell: (s) => h('span', { class: 'nowrap' }, formatTime(s.expiresAt)) },
      ...(ctx.can('alerts:triage') ? [{ title: '', cell: end }] : []),
    ], items)));
  });
}

function groupTable(groups, by, params, inv, ctx) {
  const filters = Object.fromEntries(FILTERS.filter((name) => params.get(name)).map((name) => [name, params.get(name)]));
  const name = (g) => (by === 'rule' ? (g.title ? localTitle(g.title) : g.key) : ctx.name('system', g.key, inv));
  const columns = [
    {
      title: by === 'rule' ? t('rule') : t('system'),
      cell: (g) => [h('a', { href: href('alerts', undefined, { ...filters, [by]: g.key }) }, name(g)),
        by === 'rule' ? h('span', { class: 'hint key' }, g.key) : null],
    },
    ...(by === 'system' ? [{ title: t('department'), cell: (g) => ctx.name('department', inv.systemById.get(g.key)?.department, inv) }] : []),
    { title: t('alertCount'), cell: (g) => String(g.count) },
    { title: t('maxPriority'), cell: (g) => h('span', { class: `prio ${priorityClass(g.maxPriority)}` }, String(g.maxPriority)) },
    { title: t('lastSeen'), cell: (g) => formatTime(g.lastSeen) },
  ];
  return h('div', { class: 'scroll' }, table(columns, groups));
}

const priorityClass = (p) => (p >= 16 ? 'prio-high' : p >= 9 ? 'prio-medium' : 'prio-low');

/** A column title that sorts the list; a second click reverses the order. */
function sortHeader(key, text, params, sort) {
  const active = sort.field === key;
  const nextOrder = active && sort.order === 'desc' ? 'asc' : 'desc';
  const arrow = active ? (sort.order === 'desc' ? ' ▼' : ' ▲') : '';
  const link = h('a', {
    href: href('alerts', undefined, { ...paramsObject(params), sort: key, order: nextOrder }), class: 'sort', 'data-sort': key,
    title: t('sortBy', text),
  }, text, arrow);
  link.dataset.active = active ? sort.order : '';
  return link;
}

function alertTable(alerts, inv, ctx, params, sort, selected, changed) {
  const boxes = [];
  const checkbox = (alert) => {
    const box = h('input', { type: 'checkbox', 'data-id': alert.id, 'aria-label': `${t('select')} ${localTitle(alert.rule.title)}`, onchange: () => {
      if (box.checked) selected.add(alert.id); else selected.delete(alert.id);
      box.closest('tr')?.classList.toggle('picked', box.checked);
      all.checked = boxes.every((b) => b.checked);
      changed();
    } });
    boxes.push(box);
    return box;
  };
  const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('selectAll'), onchange: () => {
    const want = all.checked;
    for (const box of boxes) if (box.checked !== want) { box.checked = want; box.dispatchEvent(new Event('change')); }
  } });
  const s = (key, text) => sortHeader(key, text, params, sort);
  const columns = [
    { title: all, cell: checkbox },
    { title: s('priority', t('priority')), cell: (a) => h('span', { class: `prio ${priorityClass(a.priority)}` }, String(a.priority)) },
    { title: s('level', t('level')), cell: (a) => badge(a.rule.level) },
    { title: t('title'), cell: (a) => [h('a', { href: href('alerts', a.id) }, localTitle(a.rule.title)),
      a.suppressed ? [' ', h('span', { class: 'badge badge-suppressed', title: t('suppressedUntil', formatTime(a.suppressed.until)) }, t('suppressed'))] : null] },
    { title: s('department', t('department')), cell: (a) => ctx.name('department', a.department, inv) },
    { title: s('system', t('system')), cell: (a) => ctx.name('system', a.system, inv) },
    { title: s('mlpsLevel', t('mlpsLevel')), cell: (a) => (a.mlpsLevel ? t('mlpsLevelN', a.mlpsLevel) : '—') },
    { title: s('status', t('status')), cell: (a) => badge(a.status) },
    { title: t('assignee'), cell: (a) => a.assignee ?? '—' },
    { title: s('count', t('count')), cell: (a) => String(a.count) },
    { title: s('firstSeen', t('firstSeen')), cell: (a) => h('span', { class: 'nowrap' }, formatTime(a.firstSeen)) },
    { title: s('lastSeen', t('lastSeen')), cell: (a) => h('span', { class: 'nowrap' }, formatTime(a.lastSeen)) },
  ];
  const canTriage = ctx.can('alerts:triage');
  const shown = canTriage ? columns : columns.slice(1);
  const el = h('div', { class: 'scroll' }, table(shown, alerts));
  // aria-sort on the sorted column's header, for screen readers.
  el.querySelectorAll('th').forEach((th) => {
    const link = th.querySelector('a.sort');
    if (link?.dataset.active) th.setAttribute('aria-sort', link.dataset.active === 'desc' ? 'descending' : 'ascending');
  });
  return el;
}

/** The action bar over the list: what is selected, and one change for all of it. */
function bulkBar(selected, reload) {
  const count = h('span', { class: 'count', 'aria-live': 'polite' }, t('selected', 0));
  const action = select('action', ACTIONS.map(([value, key]) => [value, t(key)]), 'acknowledged', { id: 'bulk-action' });
  const assignee = h('input', { name: 'assignee', id: 'bulk-assignee', size: 12 });
  const comment = h('input', { name: 'comment', id: 'bulk-comment', size: 30, maxlength: 2000 });
  const submit = h('button', { type: 'submit', class: 'primary', disabled: true }, t('submit'));
  const status = h('p', { class: 'form-status', role: 'status' });
  const form = h('form', { class: 'bulk', 'aria-label': t('bulkAction'), onsubmit: async (event) => {
    event.preventDefault();
    if (selected.size === 0) { status.textContent = t('selectSome'); return; }
    const change = action.value === 'assign' ? { assignee: assignee.value.trim() || null } : { status: action.value };
    if (comment.value.trim()) change.comment = comment.value.trim();
    try {
      const { results } = await api.post('/api/alerts/bulk', { ids: [...selected], change });
      const failed = results.filter((r) => !r.ok);
      status.className = failed.length ? 'form-status error' : 'form-status ok';
      status.textContent = [t('bulkDone', results.length - failed.length, failed.length), ...failed.map((r) => `${r.id}: ${localMessage(r.message)}`)].join(' · ');
      comment.value = '';
      await reload();
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = localMessage(error.message);
    }
  } },
  h('strong', {}, t('bulkAction')), count,
  field(t('action'), action), field(t('assignee'), assignee), field(t('comment'), comment), submit, status);
  return {
    form,
    refresh() {
      count.textContent = t('selected', selected.size);
      submit.disabled = selected.size === 0;
      form.classList.toggle('active', selected.size > 0);
    },
  };
}

/** A link to the event search for one field's value (`field:"value"`). */
function searchLink(fieldName, value) {
  const text = `${fieldName}:"${String(value).replace(/["\\]/g, '\\$&')}"`;
  return h('a', { href: href('events', undefined, { q: text }), class: 'entity', 'data-field': fieldName }, String(value));
}

const bilingual = (value) => (value ? (getLang() === 'en' ? value.en : value.zh) : undefined);

function renderDetail(main, ctx, id) {
  clear(main);
  load(main, async (el) => {
    const [alert, inv] = await Promise.all([api.get(`/api/alerts/${encodeURIComponent(id)}`), ctx.inventory()]);
    const explanation = alert.explanation ?? { matched: [], entities: [] };
    const facts = [
      [t('level'), badge(alert.rule.level)], [t('status'), badge(alert.status)], [t('rule'), `${localTitle(alert.rule.title)} (${alert.rule.id})`],
      [t('department'), ctx.name('department', alert.department, inv)], [t('system'), ctx.name('system', alert.system, inv)],
      [t('mlps'), alert.mlps.join(t('listSep')) || '—'], [t('mlpsLevel'), alert.mlpsLevel ? t('mlpsLevelN', alert.mlpsLevel) : '—'],
      [t('priority'), h('span', { class: `prio ${priorityClass(alert.priority)}` }, String(alert.priority))],
      [t('assignee'), alert.assignee ?? '—'], [t('count'), String(alert.count)],
      [t('firstSeen'), formatTime(alert.firstSeen)], [t('lastSeen'), formatTime(alert.lastSeen)],
      ...(alert.suppressed ? [[t('suppressed'), t('suppressedUntil', formatTime(alert.suppressed.until))]] : []),
    ];
    const related = h('section', { 'aria-labelledby': 'related-h', id: 'related' });
    const samples = h('section', { 'aria-labelledby': 'samples-h' });
    const response = bilingual(explanation.response);
    clear(el,
      h('p', {}, h('a', { href: '#/alerts' }, t('backTo', t('alerts')))),
      h('h1', {}, t('alertDetailTitle', localTitle(alert.rule.title))),
      h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      h('div', { class: 'row' },
        h('div', {},
          ctx.can('alerts:triage') ? triageForm(alert) : null,
          ctx.can('alerts:triage') ? suppressForm(alert) : null,
          h('section', { 'aria-labelledby': 'response-h', class: 'panel response', id: 'response' }, h('h2', { id: 'response-h' }, t('recommendedResponse')),
            response ? h('p', {}, response) : h('p', { class: 'muted' }, t('noResponse'))),
          h('section', { 'aria-labelledby': 'timeline-h' }, h('h2', { id: 'timeline-h' }, t('timeline')),
            h('ol', { class: 'timeline', id: 'timeline' }, alert.timeline.map(timelineEntry)))),
        h('div', {},
          whyMatched(alert, explanation),
          entities(explanation.entities),
          requirements(alert.mlpsRequirements ?? []))),
      related, samples);
    showRelated(related, alert, inv, ctx);
    showSamples(samples, alert, ctx);
  });
}

/** One timeline line: when, who, and what in words (触发, 状态 新建 → 确认, 分配, 评论). */
function timelineEntry(entry) {
  const what = entry.action === 'status'
    ? t('tlStatus', t(STATUS_WORD[entry.from] ?? entry.from ?? '—'), t(STATUS_WORD[entry.to] ?? entry.to))
    : entry.action === 'assign' ? (entry.assignee ? t('tlAssign', entry.assignee) : t('tlUnassign'))
      : entry.action === 'raised' ? t('tlRaised') : entry.action === 'comment' ? t('tlComment')
        : entry.action === 'notify' && entry.notification ? notifyWords(entry.notification) : entry.action;
  return h('li', { 'data-action': entry.action },
    h('time', { datetime: entry.at }, formatTime(entry.at)), ' ', h('strong', {}, entry.actor), ' ', h('span', { class: 'what' }, what),
    entry.comment ? h('q', {}, entry.comment) : null,
    entry.notification?.error ? h('q', {}, entry.notification.error) : null);
}

/** A delivery attempt: channel, route or escalation tier, try number, outcome and latency. */
function notifyWords(n) {
  const outcome = t(n.outcome === 'delivered' ? 'notifyDelivered' : n.outcome === 'skipped' ? 'notifySkipped' : 'notifyFailed');
  return t('tlNotify', n.channel, n.step ? t('notifyTier', n.step) : n.route, n.attempt, outcome, n.latencyMs);
}

function whyMatched(alert, explanation) {
  const rule = explanation.rule;
  const rows = explanation.matched.map((m) => ({ ...m }));
  return h('section', { 'aria-labelledby': 'why-h', class: 'panel', id: 'why' },
    h('h2', { id: 'why-h' }, t('whyMatched')),
    rule?.description ? h('p', { class: 'description' }, rule.description) : null,
    rule?.falsepositives?.length ? h('p', { class: 'hint' }, t('falsePositivesList', rule.falsepositives.join('; '))) : null,
    rows.length ? table([
      { title: t('fieldName'), cell: (m) => h('code', {}, m.field) },
      { title: t('ruleExpects'), cell: (m) => (m.expected.length ? h('code', { class: 'expects' }, m.expected.join(' | ')) : h('span', { class: 'muted' }, t('groupedBy'))) },
      { title: t('eventValue'), cell: (m) => (m.values.length ? m.values.map((v, i) => [i ? ' ' : null, searchLink(m.field, v)]) : '—') },
    ], rows) : h('p', { class: 'muted' }, t('noMatchDetail')));
}

function entities(list) {
  return h('section', { 'aria-labelledby': 'entities-h', class: 'panel', id: 'entities' },
    h('h2', { id: 'entities-h' }, t('entities')),
    list.length
      ? h('ul', { class: 'entities' }, list.map((e) => h('li', {}, h('span', { class: 'hint' }, t(`entity.${e.field}`)), searchLink(e.field, e.value))))
      : h('p', { class: 'muted' }, t('empty')));
}

function requirements(items) {
  return h('section', { 'aria-labelledby': 'requirements-h', class: 'panel', id: 'requirements' },
    h('h2', { id: 'requirements-h' }, t('mlpsRequirements')),
    items.length ? h('ul', { class: 'requirements' }, items.map((r) => h('li', {},
      h('strong', {}, r.clause ?? r.ref), ' ', r.testUnit ? h('span', { class: 'badge' }, `${t('testUnit')} ${r.testUnit}`) : null,
      r.control ? h('span', { class: 'hint' }, ` ${bilingual(r.control)}`) : null,
      r.requirement ? h('p', {}, bilingual(r.requirement)) : h('p', { class: 'muted' }, t('unknownClause')))))
      : h('p', { class: 'muted' }, t('empty')));
}

async function showRelated(el, alert, inv, ctx) {
  clear(el, h('h2', { id: 'related-h' }, t('relatedAlerts')), h('p', { class: 'hint' }, t('relatedHint')));
  const box = h('div');
  el.append(box);
  await load(box, async (target) => {
    const { items } = await api.get(`/api/alerts/${encodeURIComponent(alert.id)}/related`);
    clear(target, items.length ? h('div', { class: 'scroll short' }, table([
      { title: t('priority'), cell: (a) => h('span', { class: `prio ${priorityClass(a.priority)}` }, String(a.priority)) },
      { title: t('level'), cell: (a) => badge(a.rule.level) },
      { title: t('title'), cell: (a) => h('a', { href: href('alerts', a.id) }, localTitle(a.rule.title)) },
      { title: t('system'), cell: (a) => ctx.name('system', a.system, inv) },
      { title: t('sharedEntity'), cell: (a) => a.via.map((v, i) => [i ? t('listSep') : null, h('code', {}, `${v.field}:${v.value}`)]) },
      { title: t('status'), cell: (a) => badge(a.status) },
      { title: t('lastSeen'), cell: (a) => formatTime(a.lastSeen) },
    ], items)) : empty(t('noRelated')));
  });
}

function triageForm(alert) {
  const next = NEXT[alert.status] ?? [];
  const status = select('status', [['', '—'], ...next.map((s) => [s, label(s)])], '', { id: 'triage-status' });
  const assignee = h('input', { name: 'assignee', id: 'triage-assignee', value: alert.assignee ?? '', size: 14 });
  const comment = h('textarea', { name: 'comment', id: 'triage-comment', rows: 2, cols: 40, maxlength: 2000 });
  const result = h('p', { class: 'form-status', role: 'status' });
  return h('form', { class: 'triage', 'aria-label': t('triage'), onsubmit: async (event) => {
    event.preventDefault();
    const change = {};
    if (status.value) change.status = status.value;
    if (assignee.value.trim() !== (alert.assignee ?? '')) change.assignee = assignee.value.trim() || null;
    if (comment.value.trim()) change.comment = comment.value.trim();
    if (!Object.keys(change).length) { result.textContent = t('noChange'); return; }
    try {
      await api.patch(`/api/alerts/${encodeURIComponent(alert.id)}`, change);
      navigate('alerts', alert.id);
    } catch (error) {
      result.className = 'form-status error';
      result.textContent = localMessage(error.message);
    }
  } },
  h('h2', {}, t('triage')), field(t('status'), status), field(t('assignee'), assignee), field(t('comment'), comment),
  h('button', { type: 'submit', class: 'primary', id: 'triage-submit' }, t('submit')), result);
}

/** 屏蔽: this alert's group (or its whole rule) in its department, with a reason, for 1–90 days. */
function suppressForm(alert) {
  const match = select('match', [
    ...(alert.groupKey ? [['group', t('suppressGroup', alert.groupKey)]] : []), ['rule', t('suppressRule')],
  ], alert.groupKey ? 'group' : 'rule', { id: 'suppress-match' });
  const days = h('input', { name: 'days', id: 'suppress-days', type: 'number', min: 1, max: 90, value: 7, required: true, size: 4 });
  const reason = h('input', { name: 'reason', id: 'suppress-reason', required: true, maxlength: 500, size: 30 });
  const result = h('p', { class: 'form-status', role: 'status' });
  return h('form', { class: 'triage suppress', 'aria-label': t('suppress'), onsubmit: async (event) => {
    event.preventDefault();
    try {
      const made = await api.post(`/api/alerts/${encodeURIComponent(alert.id)}/suppress`, { match: match.value, days: Number(days.value), reason: reason.value.trim() });
      result.className = 'form-status ok';
      result.textContent = t('suppressDone', formatTime(made.expiresAt));
    } catch (error) {
      result.className = 'form-status error';
      result.textContent = localMessage(error.message);
    }
  } },
  h('h2', {}, t('suppress')), h('p', { class: 'hint' }, t('suppressHint')),
  field(t('suppressMatch'), match), field(t('suppressDays'), days), field(t('suppressReason'), reason),
  h('button', { type: 'submit', id: 'suppress-submit' }, t('suppress')), result);
}

async function showSamples(el, alert, ctx) {
  const ids = alert.sampleEventIds.slice(0, 10);
  clear(el, h('h2', { id: 'samples-h' }, t('sampleEvents')));
  if (!ctx.can('events:read') || !ids.length) { el.append(empty()); return; }
  const list = h('ul', { class: 'samples' });
  el.append(list, h('p', {}, h('a', { href: href('events', undefined, { system: alert.system ?? '', from: '', q: '' }) }, t('relatedEvents'))));
  for (const id of ids) {
    try {
      const event = await api.get(`/api/events/${encodeURIComponent(id)}`);
      list.append(h('li', {}, h('a', { href: href('events', id) }, formatTime(event['@timestamp'])), ' ', event.message ?? id));
    } catch (error) {
      list.append(h('li', {}, id, ' ', errorBox(error)));
    }
  }
}
