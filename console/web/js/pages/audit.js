import { api } from '../api.js';
import { t, actionName, auditActions, chainProblem, formatTime, localMessage, localToIso } from '../i18n.js';
import { navigate } from '../router.js';
import { h, clear, load, empty, field, select, badge, table, pager } from '../ui.js';

const FILTERS = ['actor', 'action', 'from', 'to'];
const PAGE_SIZE = 25;
// GET /api/audit filters by time and scope only; actor and action are matched here, over at most
// SCAN_PAGES × SCAN_SIZE entries per shown page, and the pager says how many were scanned.
const SCAN_SIZE = 200;
const SCAN_PAGES = 10;

/** The console audit trail (scoped by the server) with filters, cursor paging and the hash-chain check. */
export function render(main, ctx, route) {
  const params = route.params;
  const list = h('section', { 'aria-live': 'polite', id: 'audit-list' });
  clear(main, h('h1', {}, t('audit')), h('p', { class: 'muted' }, t('auditHint')),
    verifyBox(), filterForm(params), list);
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? '']));
  showAuditList(list, ctx, filters);
}

function filterForm(params) {
  const controls = {
    actor: h('input', { name: 'actor', value: params.get('actor') ?? '', size: 20, placeholder: t('actorHint') }),
    action: select('action', [['', t('any')], ...auditActions().map((a) => [a, `${actionName(a)} (${a})`])], params.get('action') ?? ''),
    from: h('input', { name: 'from', type: 'datetime-local', value: params.get('from') ?? '' }),
    to: h('input', { name: 'to', type: 'datetime-local', value: params.get('to') ?? '' }),
  };
  return h('form', { class: 'filters', 'aria-label': t('filters'), onsubmit: (event) => {
    event.preventDefault();
    navigate('audit', undefined, Object.fromEntries(FILTERS.map((name) => [name, controls[name].value.trim()])));
  } },
  field(t('actor'), controls.actor), field(t('action'), controls.action), field(t('from'), controls.from), field(t('to'), controls.to),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary' }, t('apply')),
    h('a', { href: '#/audit', class: 'button' }, t('reset'))));
}

/** The "verify chain" button and its verdict in words: intact with counts, or which problem and where. */
function verifyBox() {
  const result = h('div', { id: 'verify-result', role: 'status' });
  const button = h('button', { type: 'button', id: 'verify-chain', onclick: async () => {
    button.disabled = true;
    clear(result, t('verifying'));
    try {
      clear(result, verdict(await api.get('/api/audit/verify')));
    } catch (error) {
      clear(result, h('span', { class: 'error' }, localMessage(error.message)));
    } finally {
      button.disabled = false;
    }
  } }, t('verifyChain'));
  return h('div', { class: 'verify' }, button, result);
}

export function verdict(v) {
  const signatures = v.signaturesChecked ? t('signaturesChecked') : t('signaturesUnchecked');
  const checkpoint = v.lastCheckpointSeq !== undefined ? t('lastCheckpoint', v.lastCheckpointSeq) : null;
  if (v.ok) {
    if (!v.count) return h('p', { class: 'verdict' }, badge('pass'), ' ', t('chainEmpty'));
    return h('p', { class: 'verdict ok' }, badge('pass'), ' ', t('chainOk'), t('colon'), t('chainCount', v.count, v.firstSeq, v.lastSeq, v.checkpoints),
      h('br'), h('small', {}, [checkpoint, signatures].filter(Boolean).join(' · ')));
  }
  const where = v.brokenAt !== undefined ? t('brokenAt', v.brokenAt) : v.scoped ? t('brokenHidden') : null;
  return h('p', { class: 'verdict broken' }, badge('fail'), ' ', t('chainBroken', chainProblem(v.problem)),
    h('br'), h('small', {}, [where, t('chainCount', v.count, v.firstSeq ?? '—', v.lastSeq ?? '—', v.checkpoints), signatures].filter(Boolean).join(' · ')));
}

/** Reads one shown page: straight from the API, or, with an actor or action filter, scanned until enough match. */
async function readPage(query, filters, after, size) {
  const actor = filters.actor?.toLowerCase();
  const action = filters.action;
  if (!actor && !action) return api.get('/api/audit', { ...query, size, ...(after ? { after } : {}) });
  const matches = (entry) => (!actor || String(entry.actor).toLowerCase().includes(actor)) && (!action || entry.action === action);
  const items = [];
  let cursor = after;
  let scanned = 0;
  for (let i = 0; i < SCAN_PAGES; i += 1) {
    const page = await api.get('/api/audit', { ...query, size: SCAN_SIZE, ...(cursor ? { after: cursor } : {}) });
    scanned += page.items.length;
    items.push(...page.items.filter(matches));
    cursor = page.next;
    if (!cursor || items.length >= size) break;
  }
  return { items, next: cursor, scanned };
}

/** The trail as a paged table; the users page shows the same list without filters. */
export function showAuditList(section, ctx, filters = {}, size = PAGE_SIZE) {
  const query = { from: localToIso(filters.from), to: localToIso(filters.to) };
  const show = (cursors, after) => load(section, async (el) => {
    const [page, inv] = await Promise.all([readPage(query, filters, after, size), ctx.inventory().catch(() => undefined)]);
    const summary = page.scanned !== undefined ? t('filteredPage', page.items.length, page.scanned) : undefined;
    clear(el, page.items.length ? h('div', { class: 'scroll' }, auditTable(page.items, inv, ctx)) : empty(), pager(page, cursors, show, summary));
  });
  show([], undefined);
}

function auditTable(items, inv, ctx) {
  const departments = (r) => (r.departments?.length ? r.departments.map((id) => ctx.name('department', id, inv)).join(t('listSep')) : h('span', { class: 'muted' }, t('cityWide')));
  // A backup action's target is a system: its name says more than the id.
  const target = (r) => (r.target === undefined ? '—' : /^backup\./.test(r.action) && inv?.systemById?.has(r.target) ? `${ctx.name('system', r.target, inv)} (${r.target})` : r.target);
  return table([
    { title: t('time'), cell: (r) => h('time', { datetime: r.at }, formatTime(r.at)) },
    { title: t('actor'), cell: (r) => r.actor },
    { title: t('action'), cell: (r) => h('span', { class: 'audit-action' }, actionName(r.action), ' ', h('code', {}, r.action)) },
    { title: t('target'), cell: target },
    { title: t('departments'), cell: departments },
    { title: t('address'), cell: (r) => r.ip ?? '—' },
    { title: t('detail'), cell: (r) => (r.detail ? h('code', { class: 'detail' }, detailText(r.detail)) : '—') },
    { title: '#', cell: (r) => String(r.seq ?? '') },
  ], items);
}

/** {role: "ops", departments: ["a"]} as "role=ops departments=a": short enough for a table cell. */
function detailText(detail) {
  return Object.entries(detail).map(([key, value]) => `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`).join(' ');
}
