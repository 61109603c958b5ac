import { api } from '../api.js';
import { t, label, formatTime, localMessage, shanghaiToIso } from '../i18n.js';
import { href, navigate } from '../router.js';
import { h, clear, load, empty, field, select, badge, table, pager, errorBox } from '../ui.js';

const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'];
const STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'];
const FILTERS = ['level', 'status', 'department', 'system', 'rule', 'mlps', 'from', 'to'];
const ACTIONS = [['acknowledged', 'acknowledge'], ['in_progress', 'startWork'], ['resolved', 'resolve'], ['false_positive', 'falsePositive'], ['assign', 'assign']];

export function render(main, ctx, route) {
  if (route.id) renderDetail(main, ctx, route.id);
  else renderList(main, ctx, route.params);
}

/** The filter form writes its values into the hash, so a filtered list can be linked and reloaded. */
function filterForm(inv, params, ctx) {
  const opt = (values, labeller = label) => [['', t('any')], ...values.map((v) => [v, labeller(v)])];
  const controls = {
    level: checkGroup('level', LEVELS, params.get('level')),
    status: checkGroup('status', STATUSES, params.get('status')),
    department: select('department', opt(inv.departments.map((d) => d.id), (id) => ctx.name('department', id, inv)), params.get('department') ?? ''),
    system: select('system', opt(inv.systems.map((s) => s.id), (id) => ctx.name('system', id, inv)), params.get('system') ?? ''),
    rule: h('input', { name: 'rule', value: params.get('rule') ?? '', size: 14 }),
    mlps: h('input', { name: 'mlps', value: params.get('mlps') ?? '', size: 10, placeholder: '8.1.4.3' }),
    from: h('input', { name: 'from', type: 'datetime-local', value: params.get('from') ?? '' }),
    to: h('input', { name: 'to', type: 'datetime-local', value: params.get('to') ?? '' }),
  };
  return h('form', { class: 'filters', 'aria-label': t('filters'), onsubmit: (event) => {
    event.preventDefault();
    navigate('alerts', undefined, Object.fromEntries(FILTERS.map((name) => [name, controls[name].value])));
  } },
  FILTERS.map((name) => (controls[name].tagName === 'FIELDSET' ? controls[name] : field(t(name), controls[name]))),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary' }, t('apply')),
    h('a', { href: '#/alerts', class: 'button' }, t('reset'))));
}

/** Checkboxes for a filter that takes several values; its value is the checked ones joined by commas, as the API reads them. */
function checkGroup(name, values, current) {
  const chosen = new Set((current ?? '').split(',').filter(Boolean));
  const boxes = values.map((v) => h('input', { type: 'checkbox', name, value: v, checked: chosen.has(v) }));
  const group = h('fieldset', { class: 'field checks' }, h('legend', {}, t(name)), values.map((v, i) => h('label', {}, boxes[i], label(v))));
  Object.defineProperty(group, 'value', { get: () => boxes.filter((box) => box.checked).map((box) => box.value).join(',') });
  return group;
}

function listQuery(params) {
  const query = {};
  for (const name of ['level', 'status', 'department', 'system', 'rule', 'mlps']) if (params.get(name)) query[name] = params.get(name);
  for (const name of ['from', 'to']) if (params.get(name)) query[name] = shanghaiToIso(params.get(name));
  return query;
}

function renderList(main, ctx, params) {
  const results = h('section', { 'aria-live': 'polite' });
  clear(main, h('h1', {}, t('alerts')), h('div', { id: 'alert-filters' }), results);
  load(main.querySelector('#alert-filters'), async (el) => clear(el, filterForm(await ctx.inventory(), params, ctx)));
  const query = listQuery(params);
  const show = (cursors, after) => load(results, async (el) => {
    const [page, inv] = await Promise.all([api.get('/api/alerts', { ...query, size: 25, ...(after ? { after } : {}) }), ctx.inventory()]);
    clear(el, page.items.length ? alertTable(page.items, inv, ctx) : empty(), pager(page, cursors, show));
  });
  show([], undefined);
}

function alertTable(alerts, inv, ctx) {
  const selected = new Set();
  const count = h('span', { class: 'count', 'aria-live': 'polite' }, t('selected', 0));
  const boxes = [];
  const refresh = () => { count.textContent = t('selected', selected.size); };
  const checkbox = (alert) => {
    const box = h('input', { type: 'checkbox', 'aria-label': `${t('select')} ${alert.rule.title}`, onchange: () => {
      if (box.checked) selected.add(alert.id); else selected.delete(alert.id);
      refresh();
    } });
    boxes.push(box);
    return box;
  };
  const all = h('input', { type: 'checkbox', 'aria-label': t('selectAll'), onchange: () => {
    for (const box of boxes) { box.checked = all.checked; box.dispatchEvent(new Event('change')); }
  } });
  const columns = [
    { title: all, cell: checkbox },
    { title: t('level'), cell: (a) => badge(a.rule.level) },
    { title: t('title'), cell: (a) => h('a', { href: href('alerts', a.id) }, a.rule.title) },
    { title: t('department'), cell: (a) => ctx.name('department', a.department, inv) },
    { title: t('system'), cell: (a) => ctx.name('system', a.system, inv) },
    { title: t('mlps'), cell: (a) => a.mlps.join('，') },
    { title: t('status'), cell: (a) => badge(a.status) },
    { title: t('assignee'), cell: (a) => a.assignee ?? '—' },
    { title: t('count'), cell: (a) => String(a.count) },
    { title: t('priority'), cell: (a) => String(a.priority) },
    { title: t('lastSeen'), cell: (a) => formatTime(a.lastSeen) },
  ];
  const canTriage = ctx.can('alerts:triage');
  return h('div', {},
    canTriage ? bulkForm(selected, count) : null,
    h('div', { class: 'scroll' }, table(canTriage ? columns : columns.slice(1), alerts)));
}

function bulkForm(selected, count) {
  const action = select('action', ACTIONS.map(([value, key]) => [value, t(key)]), 'acknowledged', { id: 'bulk-action' });
  const assignee = h('input', { name: 'assignee', id: 'bulk-assignee', size: 12 });
  const comment = h('input', { name: 'comment', id: 'bulk-comment', size: 30, maxlength: 2000 });
  const status = h('p', { class: 'form-status', role: 'status' });
  return h('form', { class: 'bulk', 'aria-label': t('bulkAction'), onsubmit: async (event) => {
    event.preventDefault();
    if (selected.size === 0) { status.textContent = t('selectSome'); return; }
    const change = action.value === 'assign' ? { assignee: assignee.value.trim() || null } : { status: action.value };
    if (comment.value.trim()) change.comment = comment.value.trim();
    try {
      const { results } = await api.post('/api/alerts/bulk', { ids: [...selected], change });
      const failed = results.filter((r) => !r.ok);
      status.className = failed.length ? 'form-status error' : 'form-status ok';
      status.textContent = [t('bulkDone', results.length - failed.length, failed.length), ...failed.map((r) => `${r.id}: ${localMessage(r.message)}`)].join(' · ');
      // Reloads the list, unless the user has moved on to another page meanwhile.
      const list = location.hash;
      if (!failed.length) setTimeout(() => { if (location.hash === list) navigate('alerts', undefined, Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? ''))); }, 600);
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = localMessage(error.message);
    }
  } },
  h('strong', {}, t('bulkAction')), count,
  field(t('action'), action), field(t('assignee'), assignee), field(t('comment'), comment),
  h('button', { type: 'submit', class: 'primary' }, t('submit')), status);
}

function renderDetail(main, ctx, id) {
  clear(main);
  load(main, async (el) => {
    const [alert, inv] = await Promise.all([api.get(`/api/alerts/${encodeURIComponent(id)}`), ctx.inventory()]);
    const facts = [
      [t('level'), badge(alert.rule.level)], [t('status'), badge(alert.status)], [t('rule'), `${alert.rule.title} (${alert.rule.id})`],
      [t('department'), ctx.name('department', alert.department, inv)], [t('system'), ctx.name('system', alert.system, inv)],
      [t('mlps'), alert.mlps.join('，') || '—'], [t('mlpsLevel'), alert.mlpsLevel ?? '—'], [t('priority'), String(alert.priority)],
      [t('assignee'), alert.assignee ?? '—'], [t('count'), String(alert.count)],
      [t('firstSeen'), formatTime(alert.firstSeen)], [t('lastSeen'), formatTime(alert.lastSeen)],
    ];
    const samples = h('section', { 'aria-labelledby': 'samples-h' });
    clear(el,
      h('p', {}, h('a', { href: '#/alerts' }, t('backTo', t('alerts')))),
      h('h1', {}, `${t('alertDetail')}：${alert.rule.title}`),
      h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      ctx.can('alerts:triage') ? triageForm(alert) : null,
      h('section', { 'aria-labelledby': 'timeline-h' }, h('h2', { id: 'timeline-h' }, t('timeline')),
        h('ol', { class: 'timeline', id: 'timeline' }, alert.timeline.map((entry) => h('li', {},
          h('time', { datetime: entry.at }, formatTime(entry.at)), ' ', h('strong', {}, entry.actor), ' ', label(entry.action),
          entry.to ? ` → ${label(entry.to)}` : '', entry.assignee ? ` → ${entry.assignee}` : '',
          entry.comment ? h('q', {}, entry.comment) : null)))),
      samples);
    showSamples(samples, alert, ctx);
  });
}

function triageForm(alert) {
  const status = select('status', [['', '—'], ...STATUSES.map((s) => [s, label(s)])], '', { id: 'triage-status' });
  const assignee = h('input', { name: 'assignee', id: 'triage-assignee', value: alert.assignee ?? '', size: 14 });
  const comment = h('textarea', { name: 'comment', id: 'triage-comment', rows: 2, cols: 50, maxlength: 2000 });
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
