import { api } from '../api.js';
import { t, localMessage, formatDuration, zoneName } from '../i18n.js';
import { h, clear, load, empty, table, field } from '../ui.js';

export function render(main, ctx) {
  load(main, async (el) => {
    const inv = await ctx.inventory();
    const departmentName = (id) => ctx.name('department', id, inv);
    clear(el, h('h1', {}, t('inventory')),
      h('h2', {}, `${t('departments')} (${inv.departments.length})`),
      inv.departments.length ? h('div', { class: 'scroll short' }, table([
        { title: 'ID', cell: (d) => d.id },
        { title: t('department'), cell: (d) => ctx.name('department', d.id, inv) },
        { title: t('systems'), cell: (d) => String(inv.systems.filter((s) => s.department === d.id).length) },
      ], inv.departments)) : empty(),
      h('h2', {}, `${t('systems')} (${inv.systems.length})`),
      inv.systems.length ? h('div', { class: 'scroll' }, table([
        { title: 'ID', cell: (s) => s.id },
        { title: t('system'), cell: (s) => ctx.name('system', s.id, inv) },
        { title: t('department'), cell: (s) => departmentName(s.department) },
        { title: t('mlpsLevel'), cell: (s) => String(s.mlpsLevel) },
        { title: t('zone'), cell: (s) => zoneName(s.zone) },
        { title: t('owner'), cell: (s) => s.owner?.name ?? '—' },
        { title: t('rpo'), cell: (s) => formatDuration(s.backup?.rpo) },
        { title: t('rto'), cell: (s) => formatDuration(s.backup?.rto) },
      ], inv.systems)) : empty(),
      ctx.can('inventory:write') ? editor(inv, ctx) : null);
  });
}

/** The API carries durations as seconds; the inventory file (and PUT) writes them as text: 1d, 4h, 90s. */
function durationText(seconds) {
  for (const [unit, size] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60]]) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

function withDurationText(system) {
  if (!system.backup) return system;
  const backup = { ...system.backup };
  for (const key of ['rpo', 'rto', 'retention']) if (typeof backup[key] === 'number') backup[key] = durationText(backup[key]);
  return { ...system, backup };
}

/** Admins edit the whole inventory as JSON; the server checks it with the same schema as the YAML file. */
function editor(inv, ctx) {
  const plain = { departments: inv.departments, systems: inv.systems.map(withDurationText) };
  const text = h('textarea', { id: 'inventory-json', rows: 16, cols: 100, spellcheck: 'false' }, JSON.stringify(plain, null, 2));
  const status = h('p', { class: 'form-status', role: 'status' });
  return h('form', { class: 'editor', onsubmit: async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(text.value);
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = t('badJson', error.message);
      return;
    }
    try {
      await api.put('/api/inventory', body);
      ctx.forgetInventory();
      status.className = 'form-status ok';
      status.textContent = t('saved');
    } catch (error) {
      status.className = 'form-status error';
      status.textContent = localMessage(error.message);
    }
  } },
  h('h2', {}, t('editInventory')), field(t('editInventory'), text), h('button', { type: 'submit', class: 'primary' }, t('save')), status);
}
