import { api, isMissingRoute } from '../api.js';
import { t, label, formatTime, formatDuration, getLang, localMessage } from '../i18n.js';
import { h, clear, load, empty, badge, table, errorBox } from '../ui.js';

const SITES = [['same-city', 'sameCity'], ['off-site', 'offSite']];
const SITE_KEY = Object.fromEntries(SITES);
const CHECK_KIND = 'backup-check';
const DRILL_KIND = 'restore-drill';
const POLL_MS = 1000;

export function render(main, ctx) {
  const jobs = h('section', { id: 'jobs', 'aria-labelledby': 'jobs-h', 'aria-live': 'polite' }, h('h2', { id: 'jobs-h' }, t('jobs')));
  const matrix = h('section', { 'aria-labelledby': 'matrix-h' });
  const drills = h('section', { 'aria-labelledby': 'drills-h' });
  clear(main, h('h1', {}, t('backups')), matrix, jobs, drills);
  jobs.hidden = true;
  const showMatrix = () => load(matrix, async (el) => clear(el, h('h2', { id: 'matrix-h' }, t('backupMatrix')), matrixTable(await matrixRows(ctx), await ctx.inventory(), ctx, jobs)));
  const showDrills = () => load(drills, async (el) => clear(el, h('h2', { id: 'drills-h' }, t('drillHistory')), await drillHistory(ctx)));
  // A finished job leaves new results: show them.
  jobs.addEventListener('job-finished', () => { showMatrix(); showDrills(); });
  showMatrix();
  showDrills();
}

/** Rows of {system, department, rpoSeconds, sites: {same-city: cell, off-site: cell}}; from /api/backup/matrix, or built from the latest results. */
async function matrixRows(ctx) {
  const inv = await ctx.inventory();
  try {
    const data = await api.get('/api/backup/matrix');
    return data.systems.filter((row) => row.policy).map((row) => ({
      system: row.id, department: row.department, rpoSeconds: row.policy.rpoSeconds, sites: row.sites ?? {}, drill: row.drill,
    }));
  } catch (error) {
    if (!isMissingRoute(error)) throw error;
  }
  const page = await api.get('/api/backup/results', { kind: CHECK_KIND, size: 500, order: 'desc' });
  const latest = new Map();
  for (const result of page.items) {
    const key = `${result.system}\u0000${result.site}`;
    if (!latest.has(key)) latest.set(key, result);
  }
  return inv.systems.filter((s) => s.backup).map((s) => ({
    system: s.id, department: s.department, rpoSeconds: s.backup.rpo,
    sites: Object.fromEntries(SITES.map(([site]) => {
      const result = latest.get(`${s.id}\u0000${site}`);
      return [site, result ? { status: result.status, checkedAt: result.finishedAt, summary: result.summary } : undefined];
    })),
  }));
}

function siteCell(cell, rpoSeconds) {
  if (!cell || cell.status === 'none') return h('span', { class: 'muted' }, t('noCheck'));
  const age = cell.ageSeconds;
  const late = rpoSeconds && age !== undefined && age > rpoSeconds;
  const problems = (cell.problems ?? []).map((p) => localMessage(p.summary)).join('\n');
  return h('span', { title: problems || undefined },
    badge(cell.status), ' ', formatTime(cell.checkedAt), h('br'),
    h('span', { class: late ? 'late' : 'muted' }, `${t('age')} ${formatDuration(age)} / ${t('rpo')} ${formatDuration(rpoSeconds)}`));
}

function drillCell(drill) {
  if (!drill || drill.status === 'none') return h('span', { class: 'muted' }, t('noDrill'));
  return h('span', { title: drillSummary(drill.summary) || undefined }, badge(drill.status), ' ',
    drill.rto ? `${formatDuration(drill.rto.achievedSeconds)} / ${formatDuration(drill.rto.targetSeconds)}` : formatTime(drill.finishedAt));
}

function matrixTable(rows, inv, ctx, jobs) {
  if (!rows.length) return empty();
  const columns = [
    { title: t('department'), cell: (r) => ctx.name('department', r.department, inv) },
    { title: t('system'), cell: (r) => ctx.name('system', r.system, inv) },
    ...SITES.map(([site, key]) => ({ title: t(key), cell: (r) => siteCell(r.sites?.[site], r.rpoSeconds) })),
    { title: t('drill'), cell: (r) => drillCell(r.drill) },
  ];
  if (ctx.can('backup:run')) {
    columns.push({ title: t('action'), cell: (r) => h('span', { class: 'row-actions' },
      h('button', { type: 'button', 'data-action': 'verify', 'data-system': r.system, onclick: () => start('verify', r.system, ctx.name('system', r.system, inv), jobs) }, t('verify')),
      drillControls(r.system, ctx.name('system', r.system, inv), jobs)) });
  }
  return h('div', { class: 'scroll' }, table(columns, rows));
}

/** The copy to restore from (same-city by default) and the drill button. */
function drillControls(system, name, jobs) {
  const site = h('select', { 'data-role': 'drill-site', 'data-system': system, 'aria-label': t('drillSite') },
    SITES.map(([value, key]) => h('option', { value }, t(key))));
  return [site, h('button', { type: 'button', 'data-action': 'drill', 'data-system': system, onclick: () => start('drill', system, name, jobs, site.value) }, t('drill'))];
}

/** Queues a verification or drill (a drill from `site`'s copy) and shows its progress until the job finishes; the line names the system as the matrix does. */
async function start(kind, system, name, jobs, site) {
  jobs.hidden = false;
  const title = site ? `${t(kind)} · ${name} · ${t(SITE_KEY[site])}` : `${t(kind)} · ${name}`;
  const line = h('li', { class: 'job', 'data-system': system }, `${title} · ${t('loading')}`);
  let list = jobs.querySelector('ul');
  if (!list) { list = h('ul'); jobs.append(list); }
  list.prepend(line);
  try {
    const queued = await api.post(`/api/backup/${kind}`, site ? { system, site } : { system });
    const id = queued.job;
    watch(id, title, line);
  } catch (error) {
    clear(line, `${title} · `, errorBox(error));
  }
}

/** A job read as completed can still lack its outcome (state and return value are two reads): ask again a few times. */
const OUTCOME_RETRIES = 5;

function watch(id, title, line) {
  let missingOutcome = 0;
  const tick = async () => {
    try {
      const job = await api.get(`/api/backup/jobs/${encodeURIComponent(id)}`);
      const progress = job.progress && typeof job.progress === 'object' ? job.progress : undefined;
      const results = job.outcome?.results ?? [];
      const running = job.state !== 'completed' && job.state !== 'failed';
      // The progress bar and step while it runs; once finished, the result says it.
      clear(line, h('strong', {}, title), ' ', t('jobState', id.slice(-8), label(job.state)), ' ',
        running && progress?.total ? h('progress', { max: progress.total, value: progress.done, 'aria-label': t('progress') }) : null, ' ',
        running ? localMessage(progress?.step ?? '') : null,
        job.outcome ? h('div', { class: 'job-result' }, t('result'), ' ', badge(job.outcome.status), ' · ',
          ['pass', 'warn', 'fail'].map((status) => `${label(status)} ${results.filter((r) => r.status === status).length}`).join(' · ')) : null,
        job.failedReason ? h('div', { class: 'error' }, localMessage(job.failedReason)) : null);
      if (job.state === 'completed' && !job.outcome && missingOutcome++ < OUTCOME_RETRIES) {
        setTimeout(tick, POLL_MS);
        return;
      }
      line.dataset.state = job.state;
      if (job.site) line.dataset.site = job.site;
      if (!running) {
        line.dispatchEvent(new Event('job-finished', { bubbles: true }));
        return;
      }
      setTimeout(tick, POLL_MS);
    } catch (error) {
      clear(line, `${title} · `, errorBox(error));
    }
  };
  tick();
}

async function drillHistory(ctx) {
  const inv = await ctx.inventory();
  const page = await api.get('/api/backup/drills', { size: 50 }).catch((error) => {
    if (!isMissingRoute(error)) throw error;
    return api.get('/api/backup/results', { kind: DRILL_KIND, size: 50, order: 'desc' });
  });
  if (!page.items.length) return empty();
  const rto = (r) => r.rto ?? r.detail?.rto ?? {};
  return h('div', { class: 'scroll' }, table([
    { title: t('time'), cell: (r) => formatTime(r.finishedAt) },
    { title: t('system'), cell: (r) => ctx.name('system', r.system, inv) },
    { title: t('result'), cell: (r) => badge(r.status) },
    { title: t('rtoAchieved'), cell: (r) => formatDuration(rto(r).achievedSeconds) },
    { title: t('rtoTarget'), cell: (r) => formatDuration(rto(r).targetSeconds) },
    { title: t('rto'), cell: (r) => (rto(r).met === undefined ? '—' : badge(rto(r).met ? 'met' : 'missed', rto(r).met ? 'pass' : 'fail')) },
    { title: t('summary'), cell: (r) => drillSummary(r.summary) },
  ], page.items));
}

const CJK = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;

/**
 * A drill summary (`中文 / English: 中文 English — technical detail`) in one language: the outcome,
 * the counts in that language, and the detail (files, hashes, failed checks) as is; the RTO part
 * is left out, the table has its own columns for it.
 */
export function drillSummary(summary, lang = getLang()) {
  const text = String(summary ?? '');
  const at = text.indexOf(' / ');
  if (at < 0) return text;
  const zh = text.slice(0, at);
  const rest = text.slice(at + 3);
  const dash = rest.indexOf(' — ');
  const tail = dash < 0 || rest.slice(dash + 3).startsWith('RTO ') ? '' : ` — ${rest.slice(dash + 3)}`;
  const head = dash < 0 ? rest : rest.slice(0, dash);
  const colon = head.indexOf(': ');
  const outcome = colon < 0 ? head : head.slice(0, colon);
  const counts = colon < 0 ? '' : head.slice(colon + 2);
  // The counts are themselves a bilingual message (a wrapped error), or both languages word by word.
  const local = counts.includes(' / ') ? drillSummary(counts, lang)
    : lang === 'en' ? counts.replace(/[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+\s*/g, '').trim()
      : CJK.test(counts) ? counts.replace(/\s*(?<![\w.])[A-Za-z][A-Za-z()]*/g, '').trim() : '';
  if (lang === 'en') return `${outcome}${local ? `: ${local}` : ''}${tail}`;
  return `${zh}${local && !zh.includes(local) ? `：${local}` : ''}${tail}`;
}
