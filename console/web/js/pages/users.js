import { api } from '../api.js';
import { t, label, formatTime, localMessage } from '../i18n.js';
import { h, clear, load, empty, table, field, select, badge, pager } from '../ui.js';

const ROLES = ['admin', 'security_officer', 'ops', 'compliance_reviewer', 'department_viewer'];

export function render(main, ctx) {
  const users = h('section', {});
  const audit = h('section', { 'aria-labelledby': 'audit-h' });
  clear(main, h('h1', {}, t('users')), users, audit);
  const showUsers = () => load(users, async (el) => {
    const { items } = await api.get('/api/users');
    clear(el, h('div', { class: 'scroll short' }, table([
      { title: t('username'), cell: (u) => u.username },
      { title: t('displayName'), cell: (u) => u.displayName },
      { title: t('role'), cell: (u) => label(u.role) },
      { title: t('departments'), cell: (u) => u.departments.join('，') || t('allDepartments') },
      { title: t('disabled'), cell: (u) => (u.disabled ? t('yes') : t('no')) },
    ], items)), createForm(showUsers));
  });
  showUsers();
  if (ctx.can('audit:read')) showAudit(audit);
}

function createForm(done) {
  const username = h('input', { name: 'username', required: true, size: 12 });
  const displayName = h('input', { name: 'displayName', required: true, size: 12 });
  const role = select('role', ROLES.map((r) => [r, label(r)]), 'security_officer');
  const departments = h('input', { name: 'departments', size: 16 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12, size: 14 });
  const status = h('p', { class: 'form-status', role: 'status' });
  return h('form', { class: 'filters', onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api.post('/api/users', {
        username: username.value.trim(), displayName: displayName.value.trim(), role: role.value, password: password.value,
        departments: departments.value.split(/[,，]/).map((d) => d.trim()).filter(Boolean),
      });
      done();
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = localMessage(error.message);
    }
  } },
  h('h2', {}, t('createUser')), field(t('username'), username), field(t('displayName'), displayName), field(t('role'), role),
  field(t('departmentsComma'), departments), field(t('password'), password),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('createUser'))), status);
}

function showAudit(section) {
  const verified = h('span', { role: 'status' });
  const list = h('div', {});
  clear(section, h('h2', { id: 'audit-h' }, t('auditTrail')),
    h('p', {}, h('button', { type: 'button', onclick: async () => {
      try {
        const result = await api.get('/api/audit/verify');
        clear(verified, badge(result.ok ? 'pass' : 'fail'), ' ', JSON.stringify(result));
      } catch (error) {
        verified.textContent = localMessage(error.message);
      }
    } }, t('verifyChain')), ' ', verified),
    list);
  const show = (cursors, after) => load(list, async (el) => {
    const page = await api.get('/api/audit', { size: 25, ...(after ? { after } : {}) });
    clear(el, page.items.length ? h('div', { class: 'scroll' }, table([
      { title: t('time'), cell: (r) => formatTime(r.at) },
      { title: t('actor'), cell: (r) => r.actor },
      { title: t('action'), cell: (r) => r.action },
      { title: t('target'), cell: (r) => r.target ?? '—' },
      { title: t('address'), cell: (r) => r.ip ?? r.address ?? '—' },
    ], page.items)) : empty(), pager(page, cursors, show));
  });
  show([], undefined);
}
