import { api } from '../api.js';
import { t, label, localMessage } from '../i18n.js';
import { h, clear, load, empty, table } from '../ui.js';

/** 通知: channels and routes come from the config file; this page shows them (never a secret) and sends test messages. */
export function render(main) {
  const channels = h('section', { 'aria-labelledby': 'channels-h' });
  const routes = h('section', { 'aria-labelledby': 'routes-h' });
  clear(main, h('h1', {}, t('notify')), h('p', {}, t('notifyIntro')), channels, routes);
  load(channels, async () => {
    const data = await api.get('/api/notify');
    clear(channels, h('h2', { id: 'channels-h' }, t('notifyChannels')), data.channels.length ? h('div', { class: 'scroll' }, table([
      { title: 'ID', cell: (c) => c.id },
      { title: t('channelType'), cell: (c) => t(`channel_${c.type}`) },
      { title: t('channelTarget'), cell: (c) => target(c) },
      { title: t('channelSecret'), cell: (c) => (c.secretSet ? t('secretSet') : t('secretUnset')) },
      { title: t('actions'), cell: (c) => testButton(c.id) },
    ], data.channels)) : empty(t('noChannels')));
    clear(routes, h('h2', { id: 'routes-h' }, t('notifyRoutes')), data.routes.length ? h('div', { class: 'scroll' }, table([
      { title: 'ID', cell: (r) => r.id },
      { title: t('routeMatch'), cell: (r) => matchText(r.match) },
      { title: t('notifyChannels'), cell: (r) => r.channels.join(t('listSep')) },
      { title: t('routeAlso'), cell: (r) => [r.toDepartment ? t('routeToDepartment') : null, r.toUsers ? t('routeToUsers') : null].filter(Boolean).join(t('listSep')) || '—' },
      { title: t('escalation'), cell: (r) => (r.escalation.length
        ? h('ol', { class: 'tiers' }, r.escalation.map((tier) => h('li', {}, tier.channels.join(t('listSep'))))) : '—') },
    ], data.routes)) : empty(t('noRoutes')));
  });
}

function target(channel) {
  const parts = [channel.target];
  if (channel.to) parts.push(`→ ${channel.to.join(t('listSep'))}`);
  if (channel.phones !== undefined) parts.push(t('phoneCount', channel.phones));
  return parts.join(' ');
}

/** "级别 ≥ 高，部门 a, b …"; an empty match takes every alert. */
function matchText(match = {}) {
  const parts = [];
  if (match.minLevel) parts.push(t('matchMinLevel', label(match.minLevel)));
  if (match.minPriority) parts.push(t('matchMinPriority', match.minPriority));
  if (match.departments) parts.push(t('matchDepartments', match.departments.join(t('listSep'))));
  if (match.mlpsLevels) parts.push(t('matchMlps', match.mlpsLevels.join(t('listSep'))));
  if (match.rules) parts.push(t('matchRules', match.rules.join(t('listSep'))));
  if (match.tags) parts.push(t('matchTags', match.tags.join(t('listSep'))));
  return parts.length ? parts.join(t('clauseSep')) : t('matchAll');
}

function testButton(id) {
  const status = h('span', { class: 'form-status', role: 'status', 'data-test-result': id });
  const button = h('button', { type: 'button', 'data-test-channel': id, onclick: async () => {
    button.disabled = true;
    status.className = 'form-status';
    status.textContent = t('sending');
    try {
      const result = await api.post(`/api/notify/channels/${encodeURIComponent(id)}/test`);
      status.className = 'form-status ok';
      status.textContent = t('testSent', result.latencyMs);
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = t('testFailed', localMessage(error.message));
    } finally {
      button.disabled = false;
    }
  } }, t('sendTest'));
  return h('span', {}, button, ' ', status);
}
