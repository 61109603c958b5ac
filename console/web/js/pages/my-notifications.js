import { api } from '../api.js';
import { t, label, localMessage } from '../i18n.js';
import { h, clear, load, field, select } from '../ui.js';

const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];

/** 我的通知: where and from which level this user is notified (routes with `toUsers`), for themselves only. */
export function render(main) {
  const section = h('section', {});
  clear(main, h('h1', {}, t('myNotifications')), h('p', {}, t('myNotificationsIntro')), section);
  load(section, async () => {
    const prefs = await api.get('/api/me/notifications');
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', size: 24, value: prefs.email ?? '' });
    const phone = h('input', { name: 'phone', type: 'tel', autocomplete: 'tel', size: 16, value: prefs.phone ?? '' });
    const minLevel = select('minLevel', LEVELS.map((level) => [level, label(level)]), prefs.minLevel);
    const optOut = h('input', { name: 'optOut', type: 'checkbox', checked: prefs.optOut });
    const status = h('p', { class: 'form-status', role: 'status' });
    clear(section, h('form', { class: 'filters', 'aria-label': t('myNotifications'), onsubmit: async (event) => {
      event.preventDefault();
      try {
        await api.put('/api/me/notifications', {
          ...(email.value.trim() ? { email: email.value.trim() } : {}), ...(phone.value.trim() ? { phone: phone.value.trim() } : {}),
          minLevel: minLevel.value, optOut: optOut.checked,
        });
        status.className = 'form-status ok';
        status.textContent = t('saved');
      } catch (error) {
        status.className = 'form-status error';
        status.textContent = localMessage(error.message);
      }
    } },
    field(t('notifyEmail'), email), field(t('notifyPhone'), phone), field(t('notifyMinLevel'), minLevel), field(t('notifyOptOut'), optOut),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('save'))), status));
  });
}
