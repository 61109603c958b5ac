// DOM helpers: text always goes in as text nodes, never as HTML.
import { t, localMessage, label } from './i18n.js';
import { isMissingRoute } from './api.js';

/** h('a', {href: '#/x', class: 'btn', onclick}, 'text', child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'value') el.value = value;
    else if (key === 'checked') el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const loading = () => h('p', { class: 'loading', role: 'status' }, t('loading'));
export const empty = (text = t('empty')) => h('p', { class: 'empty' }, text);

/** An error box; a route that does not exist yet gets a calm "not available" instead. */
export function errorBox(error, retry) {
  const text = isMissingRoute(error) ? t('notAvailable')
    : error?.status === 403 ? t('forbidden') : t('error', localMessage(error?.message ?? error));
  return h('div', { class: isMissingRoute(error) ? 'notice' : 'error', role: 'alert' },
    text, retry ? h('button', { type: 'button', class: 'link', onclick: retry }, t('retry')) : null);
}

/** A labelled form field: <label>text <input></label>. */
export function field(text, control) {
  return h('label', { class: 'field' }, h('span', {}, text), control);
}

export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs }, options.map(([v, text]) => h('option', { value: v, selected: v === value ? true : undefined }, text)));
}

export function badge(value, kind = value) {
  return h('span', { class: `badge badge-${String(kind).replace(/[^a-z_-]/gi, '')}` }, label(value));
}

/** A table from column specs {title, cell(row) → node|text}. */
export function table(columns, rows, caption) {
  return h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.title)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c) => h('td', {}, c.cell(row)))))));
}

/** Run an async render into `el`, with a loading state and an error box with retry. */
export async function load(el, work) {
  clear(el, loading());
  try {
    await work(el);
  } catch (error) {
    clear(el, errorBox(error, () => load(el, work)));
  }
}

/** Paging by cursor: keeps the cursors seen so "previous" works too; `summary` replaces the total when it is unknown. */
export function pager(page, cursors, go, summary) {
  const total = summary ?? (page.totalIsLowerBound ? t('totalAtLeast', page.total) : t('total', page.total));
  return h('nav', { class: 'pager', 'aria-label': t('pages') },
    h('span', {}, total),
    h('button', { type: 'button', disabled: cursors.length === 0 ? true : undefined, onclick: () => go(cursors.slice(0, -1), cursors.at(-2)) }, t('prevPage')),
    h('button', { type: 'button', disabled: page.next ? undefined : true, onclick: () => go([...cursors, page.next], page.next) }, t('nextPage')));
}
