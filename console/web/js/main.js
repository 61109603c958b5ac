import { api, setCsrfToken, whenUnauthorized } from './api.js';
import { getLang, setLang, onLangChange, t, localName, setTimeZone } from './i18n.js';
import { currentRoute, navigate } from './router.js';
import { h, clear, loading } from './ui.js';
import * as login from './pages/login.js';
import * as posture from './pages/posture.js';
import * as alerts from './pages/alerts.js';
import * as events from './pages/events.js';
import * as backups from './pages/backups.js';
import * as inventory from './pages/inventory.js';
import * as rules from './pages/rules.js';
import * as users from './pages/users.js';
import * as audit from './pages/audit.js';
import * as evidence from './pages/evidence.js';
import * as notify from './pages/notify.js';
import * as myNotifications from './pages/my-notifications.js';

// Each page names the permission it needs; the server checks it again on every call.
const PAGES = [
  ['posture', posture, 'alerts:read'],
  ['alerts', alerts, 'alerts:read'],
  ['events', events, 'events:read'],
  ['backups', backups, 'backup:read'],
  ['inventory', inventory, 'inventory:read'],
  ['rules', rules, 'rules:read'],
  ['audit', audit, 'audit:read'],
  ['users', users, 'users:admin'],
  ['evidence', evidence, 'evidence:export'],
  // The notify API answers only admins without a department scope.
  ['notify', notify, 'users:admin', (user) => user.departments.length === 0],
  // Every signed-in user sets their own.
  ['myNotifications', myNotifications],
];

const main = document.getElementById('main');
const top = document.getElementById('top');
let me;
let inventoryCache;

const ctx = {
  get me() { return me; },
  can: (permission) => Boolean(me?.permissions.includes(permission)),
  canSee: ([, , permission, also]) => (!permission || ctx.can(permission)) && (!also || also(me)),
  /** Departments and systems by id, for names in lists; loaded once per login. */
  async inventory() {
    inventoryCache ??= api.get('/api/inventory').then((inv) => ({
      ...inv,
      departmentById: new Map(inv.departments.map((d) => [d.id, d])),
      systemById: new Map(inv.systems.map((s) => [s.id, s])),
    })).catch((error) => { inventoryCache = undefined; throw error; });
    return inventoryCache;
  },
  forgetInventory() { inventoryCache = undefined; },
  name(kind, id, inv) {
    const item = (kind === 'department' ? inv?.departmentById : inv?.systemById)?.get(id);
    return localName(item) ?? id ?? '—';
  },
  async signedIn(session) {
    setCsrfToken(session.csrfToken);
    setTimeZone(session.timeZone);
    me = session.user;
    inventoryCache = undefined;
    if (currentRoute().page === 'login') navigate('posture'); else route();
  },
};

function renderTop() {
  const focusedId = document.activeElement?.id;
  if (!me) { top.hidden = true; clear(top); return; }
  const { page } = currentRoute();
  top.hidden = false;
  clear(top,
    h('span', { class: 'brand' }, t('appName')),
    h('nav', { 'aria-label': t('nav') }, h('ul', {}, PAGES.filter((entry) => ctx.canSee(entry)).map(([name]) =>
      h('li', {}, h('a', { href: `#/${name}`, 'aria-current': name === page ? 'page' : undefined }, t(name)))))),
    h('span', { class: 'who' }, `${me.displayName} (${me.username})`),
    h('button', { type: 'button', id: 'lang-switch', lang: getLang() === 'en' ? 'zh-CN' : 'en', title: t('langSwitchLabel'), onclick: () => setLang(getLang() === 'en' ? 'zh' : 'en') }, t('langSwitch')),
    h('button', { type: 'button', id: 'logout', onclick: logout }, t('logout')));
  document.getElementById('skip-link').textContent = t('skip');
  // Redrawn in the other language, the switch keeps the keyboard focus.
  if (focusedId === 'lang-switch') document.getElementById('lang-switch').focus();
}

async function logout() {
  await api.delete('/api/session').catch(() => undefined);
  signedOut();
}

function signedOut() {
  me = undefined;
  setCsrfToken(undefined);
  inventoryCache = undefined;
  if (currentRoute().page !== 'login') location.hash = '#/login'; else route();
}

function route() {
  const current = currentRoute();
  renderTop();
  if (!me || current.page === 'login') {
    if (me) { navigate('posture'); return; }
    document.title = `${t('loginTitle')} · ${t('brand')}`;
    login.render(main, ctx);
    return;
  }
  const entry = PAGES.find(([name]) => name === current.page) ?? PAGES[0];
  const [name, page] = entry;
  document.title = `${t(name)} · ${t('brand')}`;
  clear(main);
  if (!ctx.canSee(entry)) { clear(main, h('p', { class: 'error', role: 'alert' }, t('forbidden'))); return; }
  page.render(main, ctx, current);
}

whenUnauthorized(() => { if (me) signedOut(); });
onLangChange(route);
window.addEventListener('hashchange', () => {
  route();
  // After following a link the keyboard continues in the new page, not in the old link's place.
  if (me && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
});

async function start() {
  setLang(getLang());
  clear(main, loading());
  try {
    const session = await api.get('/api/session');
    setCsrfToken(session.csrfToken);
    setTimeZone(session.timeZone);
    me = session.user;
  } catch {
    me = undefined;
  }
  if (!me && currentRoute().page !== 'login') location.hash = '#/login';
  route();
}

start();
