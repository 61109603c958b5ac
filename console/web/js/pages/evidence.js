// 等保证据 Evidence: choose a scope and a period, export a signed bundle, follow it, download it and see it verified.
import { api } from '../api.js';
import { t, label, formatTime, localMessage, localDay, localToIso, periodLabel } from '../i18n.js';
import { h, clear, load, field, errorBox } from '../ui.js';

const POLL_MS = 700;
/** Job states coloured as the other badges: finished well, failed, under way. */
const STATE_KIND = { completed: 'pass', failed: 'fail', active: 'warn', waiting: 'informational', delayed: 'warn' };
const DEFAULT_DAYS = 30;
const DAY_MS = 86_400_000;
/** A job id as the server makes them (EVIDENCE_JOB_ID in evidence/job.ts): 128 random bits, base64url. */
const JOB_ID = /^[A-Za-z0-9_-]{22}$/;
/**
 * A day's start in the configured zone (every date on the console is read in it) as ISO UTC; the "to" day is
 * included, so the period ends at the next day's start (a calendar day, 23 or 25 hours on a switch day).
 */
const dayStart = (day, plusDays = 0) => localToIso(`${new Date(Date.parse(`${day}T00:00:00Z`) + plusDays * DAY_MS).toISOString().slice(0, 10)}T00:00`);

export function render(main, ctx, route) {
  const form = h('div', { id: 'evidence-form' });
  const job = h('section', { id: 'evidence-job', 'aria-labelledby': 'evidence-job-h', 'aria-live': 'polite' });
  job.hidden = true;
  clear(main, h('h1', {}, t('evidence')), h('p', { class: 'intro' }, t('evidenceIntro')), form, job);
  // A job in the address (after an export, a reload or a language switch) is followed again, its choices in the form.
  const followed = route.id && JOB_ID.test(route.id) ? route.id : undefined;
  load(form, async (el) => {
    const [inv, state] = await Promise.all([ctx.inventory(), followed ? api.get(`/api/evidence/${followed}`).catch(() => undefined) : undefined]);
    clear(el, exportForm(ctx, inv, job, state?.selection));
  });
  if (followed) follow(followed, job, ctx);
}

function exportForm(ctx, inv, job, initial) {
  const scoped = (ctx.me?.departments ?? []).length > 0;
  const kinds = [['department', t('scopeDepartment')], ['system', t('scopeSystem')], ['all', scoped ? t('scopeAllMine') : t('scopeAll')]];
  const kind = h('fieldset', { class: 'checks scope-kind' }, h('legend', {}, t('scope')),
    kinds.map(([value, text]) => h('label', {}, h('input', { type: 'radio', name: 'scope', value, checked: value === initialKind(initial) }), ' ', text)));
  // Only what the caller's scope allows: /api/inventory answers inside it.
  const department = h('select', { name: 'department', id: 'evidence-department' },
    inv.departments.map((d) => h('option', { value: d.id, selected: d.id === initial?.department }, ctx.name('department', d.id, inv))));
  const system = h('select', { name: 'system', id: 'evidence-system' },
    inv.departments.map((d) => h('optgroup', { label: ctx.name('department', d.id, inv) },
      inv.systems.filter((s) => s.department === d.id).map((s) => h('option', { value: s.id, selected: s.id === initial?.system }, ctx.name('system', s.id, inv))))));
  const departmentField = field(t('department'), department);
  const systemField = field(t('system'), system);
  const today = localDay(Date.now());
  // The period's end is the start of the day after the last day included.
  const fromDay = initial ? localDay(Date.parse(initial.from)) : localDay(Date.now() - DEFAULT_DAYS * DAY_MS);
  const toDay = initial ? localDay(Date.parse(initial.to) - 1) : today;
  const from = h('input', { type: 'date', name: 'from', id: 'evidence-from', required: true, value: fromDay, max: today });
  const to = h('input', { type: 'date', name: 'to', id: 'evidence-to', required: true, value: toDay, max: today });
  const status = h('p', { class: 'form-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('exportBundle'));
  const chosen = () => kind.querySelector('input:checked').value;
  const showFields = () => {
    departmentField.hidden = chosen() !== 'department';
    systemField.hidden = chosen() !== 'system';
  };
  kind.addEventListener('change', showFields);
  showFields();

  const onsubmit = async (event) => {
    event.preventDefault();
    clear(status);
    status.className = 'form-status';
    if (!from.value || !to.value || from.value > to.value) {
      status.className = 'form-status error';
      status.textContent = t('badPeriod');
      return;
    }
    const scope = chosen();
    const body = {
      ...(scope === 'all' ? { all: true } : scope === 'department' ? { department: department.value } : { system: system.value }),
      from: dayStart(from.value), to: dayStart(to.value, 1),
    };
    if (scope !== 'all' && !(body.department ?? body.system)) {
      status.className = 'form-status error';
      status.textContent = t('nothingInScope');
      return;
    }
    submit.disabled = true;
    try {
      const started = await api.post('/api/evidence', body);
      // In the address, so a reload keeps following this job (no hashchange: the page is not redrawn).
      history.replaceState(null, '', `#/evidence/${started.job}`);
      follow(started.job, job, ctx);
    } catch (error) {
      clear(status, errorBox(error));
    } finally {
      submit.disabled = false;
    }
  };

  return h('form', { class: 'filters evidence-form', 'aria-label': t('exportBundle'), onsubmit },
    kind, departmentField, systemField,
    h('fieldset', { class: 'checks period' }, h('legend', {}, periodLabel()), field(t('fromDay'), from), field(t('toDay'), to),
      h('span', { class: 'hint' }, t('periodHint'))),
    h('div', { class: 'actions' }, submit), status);
}

const initialKind = (selection) => (selection?.system ? 'system' : selection && !selection.department ? 'all' : 'department');

/** Polls the job until it ends, then shows its result, the download and the verification. */
function follow(id, section, ctx) {
  section.hidden = false;
  const progress = h('div', { class: 'evidence-progress' });
  const result = h('div', { class: 'evidence-result' });
  const verify = h('div', { id: 'evidence-verify' });
  clear(section, h('h2', { id: 'evidence-job-h' }, t('evidenceJob', id)), progress, result, verify);
  section.dataset.state = 'waiting';
  const tick = async () => {
    let state;
    let inv;
    try {
      [state, inv] = await Promise.all([api.get(`/api/evidence/${encodeURIComponent(id)}`), ctx.inventory()]);
    } catch (error) {
      clear(progress, errorBox(error));
      section.dataset.state = 'error';
      return;
    }
    const p = state.progress && typeof state.progress === 'object' ? state.progress : { done: 0, total: 100, step: '' };
    const percent = p.total ? Math.round((100 * p.done) / p.total) : 0;
    clear(progress,
      h('div', { class: 'selection' }, selectionText(state.selection, ctx, inv)),
      h('div', { class: 'bar' },
        h('progress', { max: p.total || 100, value: p.done ?? 0, 'aria-label': t('progress') }),
        h('span', { class: 'percent' }, `${percent}%`),
        h('span', { class: `badge badge-${STATE_KIND[state.state] ?? 'informational'}` }, label(state.state)),
        h('span', { class: 'step' }, localMessage(p.step ?? ''))));
    section.dataset.state = state.state;
    if (state.state === 'failed') {
      clear(result, h('div', { class: 'error', role: 'alert' }, t('exportFailed', localMessage(state.error ?? ''))));
      return;
    }
    if (state.state === 'completed') {
      showResult(id, state.result, result, verify);
      return;
    }
    setTimeout(tick, POLL_MS);
  };
  tick();
}

function selectionText(selection, ctx, inv) {
  if (!selection) return '';
  const scoped = (ctx.me?.departments ?? []).length > 0;
  const what = selection.system ? t('labelValue', t('system'), ctx.name('system', selection.system, inv))
    : selection.department ? t('labelValue', t('department'), ctx.name('department', selection.department, inv)) : scoped ? t('scopeAllMine') : t('scopeAll');
  return t('selectionLine', what, formatTime(selection.from), formatTime(selection.to));
}

const sizeText = (bytes) => (bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`);

function showResult(id, summary, result, verify) {
  const statuses = Object.entries(summary?.statuses ?? {});
  clear(result,
    h('dl', { class: 'facts' },
      h('dt', {}, t('systems')), h('dd', {}, String(summary?.systems ?? '—')),
      h('dt', {}, t('bundleFiles')), h('dd', {}, summary ? `${summary.files} · ${sizeText(summary.bytes)}` : '—'),
      h('dt', {}, t('statusCounts')), h('dd', {}, statuses.length
        ? statuses.map(([status, n]) => h('span', { class: 'status-count' }, h('span', { class: `badge badge-${statusKind(status)}` }, label(status)), ` ${n}`))
        : '—')),
    h('p', { class: 'row-actions' },
      h('a', { class: 'button primary', id: 'evidence-download', href: `/api/evidence/${encodeURIComponent(id)}/download`, download: `shouwang-evidence-${id}.zip` }, t('downloadBundle')),
      h('button', { type: 'button', onclick: () => showVerify(id, verify) }, t('verifyAgain'))));
  showVerify(id, verify);
}

/** Colours for the MLPS statuses (their names come from the bundle, in Chinese). */
const statusKind = (status) => ({ 符合: 'pass', 部分符合: 'warn', 不符合: 'fail' })[status] ?? 'informational';

function showVerify(id, el) {
  load(el, async () => {
    const report = await api.get(`/api/evidence/${encodeURIComponent(id)}/verify`);
    el.dataset.ok = String(report.ok);
    const problems = report.problems ?? [];
    clear(el, h('div', { class: `bundle-verify ${report.ok ? 'bundle-verify-ok' : 'bundle-verify-bad'}`, role: report.ok ? 'status' : 'alert' },
      h('h3', {}, t('verifyResult'), ' ', h('span', { class: `badge badge-${report.ok ? 'pass' : 'fail'}` }, report.ok ? t('verifyOk') : t('verifyBad'))),
      h('ul', {},
        h('li', {}, t('labelValue', t('signature'), report.signatureValid ? t('signatureValid') : t('signatureInvalid'))),
        h('li', {}, t('labelValue', t('keyChecked'), report.keySource === 'pinned' ? t('keyPinned') : t('keyBundle')),
          report.fingerprint ? [' · ', h('code', { class: 'fingerprint' }, report.fingerprint)] : null),
        h('li', {}, t('labelValue', t('digests'), problems.length ? t('digestProblems', problems.length) : t('digestsOk')))),
      problems.length ? h('ul', { class: 'problems' }, problems.map((p) => h('li', {}, localMessage(p)))) : null));
  });
}
