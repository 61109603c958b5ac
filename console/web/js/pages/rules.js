import { api } from '../api.js';
import { t, localMessage, localTitle } from '../i18n.js';
import { h, clear, load, empty, table, field, badge, errorBox } from '../ui.js';

export function render(main, ctx) {
  const list = h('section', {});
  const tester = h('section', { 'aria-labelledby': 'test-h' });
  clear(main, h('h1', {}, t('rules')), list, tester);
  tester.append(testForm());
  load(list, async (el) => {
    const data = await api.get('/api/rules');
    const rules = data.items ?? data.rules ?? (Array.isArray(data) ? data : []);
    const canWrite = ctx.can('rules:write');
    clear(el, rules.length ? h('div', { class: 'scroll tall' }, table([
      { title: 'ID', cell: (r) => r.id },
      { title: t('title'), cell: (r) => localTitle(r.title) },
      { title: t('level'), cell: (r) => badge(r.level) },
      { title: t('mlps'), cell: (r) => (r.mlps ?? []).join(t('listSep')) },
      { title: t('enabled'), cell: (r) => toggle(r, canWrite) },
    ], rules)) : empty());
    
  });
}

function toggle(rule, canWrite) {
  const enabled = rule.enabled !== false;
  if (!canWrite) return enabled ? t('yes') : t('no');
  const button = h('button', { type: 'button', 'aria-pressed': String(enabled), onclick: async () => {
    button.disabled = true;
    try {
      const updated = await api.patch(`/api/rules/${encodeURIComponent(rule.id)}`, { enabled: !enabled });
      button.replaceWith(toggle({ ...rule, ...updated, enabled: updated?.enabled ?? !enabled }, canWrite));
    } catch (error) {
      button.disabled = false;
      button.after(errorBox(error));
    }
  } }, enabled ? `${t('enabled')} ✓ · ${t('disable')}` : t('enable'));
  return button;
}

/** Events may be a JSON array or one JSON object per line (NDJSON). */
function parseEvents(text) {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith('[')) return JSON.parse(trimmed);
  return trimmed.split('\n').filter((l) => l.trim()).map((line) => JSON.parse(line));
}

const SAMPLE_RULE = `title: 示例 / example
id: 00000000-0000-4000-8000-000000000000
status: test
logsource:
  product: linux
  service: sshd
detection:
  selection:
    event.outcome: failure
  condition: selection
level: medium`;

/** Tries a pasted Sigma rule (YAML) on pasted events; nothing is saved. */
function testForm() {
  const rule = h('textarea', { id: 'test-rule', rows: 10, cols: 90, spellcheck: 'false' }, SAMPLE_RULE);
  const events = h('textarea', { id: 'test-events', rows: 5, cols: 90, spellcheck: 'false', placeholder: '{"event": {"outcome": "failure"}, "message": "..."}' });
  const output = h('div', { role: 'status', 'aria-live': 'polite' });
  return h('form', { class: 'editor', onsubmit: async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = parseEvents(events.value);
    } catch (error) {
      clear(output, h('p', { class: 'error' }, t('badJson', error.message)));
      return;
    }
    try {
      const result = await api.post('/api/rules/test', { rule: rule.value, events: parsed });
      clear(output, h('p', { id: 'test-result' }, t('matches', result.matched)),
        result.warnings?.length ? h('ul', {}, result.warnings.map((w) => h('li', {}, localMessage(w)))) : null,
        h('ol', { start: 0 }, result.results.map((r) => h('li', {}, r.matched.length ? r.matched.join(t('listSep')) : '—'))));
    } catch (error) {
      clear(output, h('p', { class: 'error' }, localMessage(error.message)));
    }
  } },
  h('h2', { id: 'test-h' }, t('testRule')), field(t('rule'), rule), field(t('pastedEvents'), events),
  h('button', { type: 'submit', class: 'primary' }, t('runTest')), output);
}
