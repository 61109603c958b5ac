import { api } from '../api.js';
import { t, label, formatTime, localMessage } from '../i18n.js';
import { h, clear, load, table, field, select } from '../ui.js';
import { showAuditList } from './audit.js';

const ROLES = ['admin', 'security_officer', 'ops', 'compliance_reviewer', 'department_viewer'];

export function render(main, ctx) {
  const users = h('section', {});
  const audit = h('section', { 'aria-labelledby': 'audit-h' });
  clear(main, h('h1', {}, t('users')), users, audit);
  const editor = h('div', {});
  // After a change both lists reload: the admin sees their own action on the audit trail at once.
  const changed = () => {
    showUsers();
    if (ctx.can('audit:read')) showAudit(audit, ctx);
  };
  const showUsers = () => load(users, async (el) => {
    const [{ items }, inv] = await Promise.all([api.get('/api/users'), ctx.inventory().catch(() => undefined)]);
    clear(editor);
    clear(el, h('div', { class: 'scroll short' }, table([
      { title: t('username'), cell: (u) => u.username },
      { title: t('displayName'), cell: (u) => u.displayName },
      { title: t('role'), cell: (u) => label(u.role) },
      { title: t('departments'), cell: (u) => u.departments.map((id) => ctx.name('department', id, inv)).join(t('listSep')) || t('allDepartments') },
      { title: t('disabled'), cell: (u) => (u.disabled ? t('yes') : t('no')) },
      { title: t('lockedUntil'), cell: (u) => (u.lockedUntil ? formatTime(u.lockedUntil) : '—') },
      { title: t('actions'), cell: (u) => h('button', {
        type: 'button', 'data-user': u.username, onclick: () => clear(editor, editForm(u, ctx.me?.username, changed)),
      }, t('edit')) },
    ], items)), editor, createForm(changed));
  });
  showUsers();
  if (ctx.can('audit:read')) showAudit(audit, ctx);
}

/** Role, departments, disable, password reset, unlock and delete for one user; the server refuses changes to oneself. */
function editForm(user, self, done) {
  const role = select('role', ROLES.map((r) => [r, label(r)]), user.role);
  const departments = h('input', { name: 'departments', size: 16, value: user.departments.join(',') });
  const disabled = h('input', { name: 'disabled', type: 'checkbox', checked: user.disabled });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: 12, size: 14 });
  // Changing one's own password takes the current one (the server refuses it otherwise).
  const current = user.username === self
    ? h('input', { name: 'currentPassword', type: 'password', autocomplete: 'current-password', size: 14 }) : null;
  const status = h('p', { class: 'form-status', role: 'status' });
  const run = async (work) => {
    try {
      await work();
      done();
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = localMessage(error.message);
    }
  };
  const path = `/api/users/${encodeURIComponent(user.username)}`;
  const save = () => run(() => {
    const change = {};
    if (role.value !== user.role) change.role = role.value;
    const wanted = departments.value.split(/[,，]/).map((d) => d.trim()).filter(Boolean);
    if (wanted.join(',') !== user.departments.join(',')) change.departments = wanted;
    if (disabled.checked !== user.disabled) change.disabled = disabled.checked;
    if (password.value) change.password = password.value;
    if (password.value && current) change.currentPassword = current.value;
    if (Object.keys(change).length === 0) throw new Error(t('nothingChanged'));
    return api.patch(path, change);
  });
  return h('form', { class: 'filters', 'aria-label': `${t('edit')} ${user.username}`, onsubmit: (event) => {
    event.preventDefault();
    save();
  } },
  h('h2', {}, `${t('edit')}${t('colon')}${user.username}`), field(t('role'), role), field(t('departmentsComma'), departments),
  field(t('disabled'), disabled), field(t('newPassword'), password), current ? field(t('currentPassword'), current) : null,
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary' }, t('save')),
    user.lockedUntil ? h('button', { type: 'button', onclick: () => run(() => api.patch(path, { unlock: true })) }, t('unlock')) : null,
    user.username !== self ? h('button', { type: 'button', class: 'danger', onclick: () => {
      if (window.confirm(t('confirmDelete', user.username))) run(() => api.delete(path));
    } }, t('delete')) : null),
  status);
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

/** The latest entries next to the user list, so an admin sees their own change at once; the full trail has its own page. */
function showAudit(section, ctx) {
  const list = h('div', {});
  clear(section, h('h2', { id: 'audit-h' }, t('recentAudit')), h('p', {}, h('a', { href: '#/audit' }, t('fullAudit'))), list);
  showAuditList(list, ctx);
}
