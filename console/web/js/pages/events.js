import { api } from '../api.js';
import { t, formatTime, shanghaiToIso } from '../i18n.js';
import { href } from '../router.js';
import { h, clear, load, empty, field, select, table, pager } from '../ui.js';

export function render(main, ctx, route) {
  if (route.id) renderDetail(main, route.id);
  else renderSearch(main, ctx, route.params);
}

const get = (object, path) => path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);

function renderSearch(main, ctx, params) {
  const form = h('div', { id: 'event-form' });
  const results = h('section', { 'aria-live': 'polite' });
  clear(main, h('h1', {}, t('events')), form, results);
  load(form, async (el) => {
    const inv = await ctx.inventory();
    const q = h('input', { name: 'q', type: 'search', value: params.get('q') ?? '', size: 40, 'aria-describedby': 'q-hint' });
    const opt = (items, kind) => [['', t('any')], ...items.map((item) => [item.id, ctx.name(kind, item.id, inv)])];
    const department = select('department', opt(inv.departments, 'department'), params.get('department') ?? '');
    const system = select('system', opt(inv.systems, 'system'), params.get('system') ?? '');
    const from = h('input', { name: 'from', type: 'datetime-local', value: params.get('from') ?? '' });
    const to = h('input', { name: 'to', type: 'datetime-local', value: params.get('to') ?? '' });
    const filters = h('textarea', { name: 'filter', rows: 2, cols: 36, placeholder: 'user.name:root\nevent.outcome:failure' }, params.getAll('filter').join('\n'));
    clear(el, h('form', { class: 'filters', role: 'search', onsubmit: (event) => {
      event.preventDefault();
      const search = new URLSearchParams();
      for (const [name, control] of Object.entries({ q, department, system, from, to })) if (control.value) search.set(name, control.value);
      for (const line of filters.value.split('\n').map((l) => l.trim()).filter(Boolean)) search.append('filter', line);
      location.hash = `#/events${search.toString() ? `?${search}` : ''}`;
    } },
    field(t('query'), q), h('span', { id: 'q-hint', class: 'hint' }, t('queryHint')),
    field(t('department'), department), field(t('system'), system), field(t('from'), from), field(t('to'), to),
    field(t('fieldFilters'), filters),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('apply')), h('a', { href: '#/events', class: 'button' }, t('reset')))));
  });
  const query = {
    q: params.get('q') ?? undefined, department: params.get('department') ?? undefined, system: params.get('system') ?? undefined,
    from: shanghaiToIso(params.get('from')), to: shanghaiToIso(params.get('to')), filter: params.getAll('filter'),
  };
  const show = (cursors, after) => load(results, async (el) => {
    const [page, inv] = await Promise.all([api.get('/api/events', { ...query, size: 50, ...(after ? { after } : {}) }), ctx.inventory()]);
    const columns = [
      { title: t('time'), cell: (e) => h('a', { href: href('events', e.id) }, formatTime(e['@timestamp'])) },
      { title: t('department'), cell: (e) => ctx.name('department', get(e, 'shouwang.department'), inv) },
      { title: t('system'), cell: (e) => ctx.name('system', get(e, 'shouwang.system'), inv) },
      { title: t('host'), cell: (e) => get(e, 'host.name') ?? '—' },
      { title: t('user'), cell: (e) => get(e, 'user.name') ?? '—' },
      { title: t('outcome'), cell: (e) => get(e, 'event.outcome') ?? '—' },
      { title: t('message'), cell: (e) => h('span', { class: 'message' }, e.message ?? '') },
    ];
    clear(el, page.items.length ? h('div', { class: 'scroll' }, table(columns, page.items)) : empty(), pager(page, cursors, show));
  });
  show([], undefined);
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
