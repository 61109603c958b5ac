import { api } from '../api.js';
import { t, localMessage } from '../i18n.js';
import { h, clear, field } from '../ui.js';

export function render(main, ctx) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('p', { class: 'form-status', role: 'alert', 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('loginButton'));
  const form = h('form', { class: 'login', onsubmit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.className = 'form-status';
    status.textContent = t('loggingIn');
    try {
      const session = await api.post('/api/session', { username: username.value.trim(), password: password.value });
      password.value = '';
      await ctx.signedIn(session);
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = localMessage(error.message);
      button.disabled = false;
      password.focus();
    }
  } },
  h('h1', {}, t('appName')),
  h('h2', {}, t('loginTitle')),
  field(t('username'), username),
  field(t('password'), password),
  button, status);
  clear(main, form);
  username.focus();
}
