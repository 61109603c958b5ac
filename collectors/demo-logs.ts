import { SHANGHAI_OFFSET_MS, seededRandom, type Inventory } from '../core/index.js';
import type { Line } from './decoders/event-decode.js';

/**
 * The bundled demo log set: a day of syslog from the demo inventory's hosts — logins, sudo,
 * account changes, web access, one SSH brute-force burst, a few lines from an unknown host and
 * a few malformed lines (which become dead letters). Seeded, so the same hour gives the same lines
 * and a restart within it stores nothing twice.
 */
export function demoLogLines(inventory: Inventory, now = new Date()): Line[] {
  const anchor = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const random = seededRandom(anchor / 3_600_000);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const lines: { at: number; text: string }[] = [];
  const hosts = inventory.systems.flatMap((system) => system.hosts.map((host) => ({ host, system })));
  if (hosts.length === 0) return [];
  const users = ['ops', 'dbadmin', 'zhangwei', 'liuyang', 'wangfang', 'backup'];
  const insiders = ['10.20.4.100', '10.20.4.101', '10.30.8.15'];
  const attackers = ['203.0.113.45', '198.51.100.23', '203.0.113.77'];
  const day = 86_400_000;
  for (let n = 0; n < 1200; n += 1) {
    const { host, system } = pick(hosts);
    // Most systems are run by the book: office hours, the ops account, ordinary pages. A few are not.
    const troubled = TROUBLED_SYSTEM_POSITIONS.includes(inventory.systems.indexOf(system));
    const sampled = anchor - Math.floor(random() * day);
    const at = troubled ? sampled : officeHours(sampled, random());
    const roll = random();
    let text: string;
    if (roll < 0.35) {
      text = `sshd[${1000 + n}]: Accepted publickey for ${troubled ? pick(users) : pick(['zhangwei', 'liuyang', 'wangfang'])} from ${pick(insiders)} port ${40000 + n} ssh2`;
    } else if (roll < 0.5) {
      text = `sshd[${1000 + n}]: Failed password for ${pick(['root', 'admin', 'oracle', pick(users)])} from ${pick(troubled ? [...insiders, ...attackers] : insiders)} port ${40000 + n} ssh2`;
    } else if (roll < 0.65) {
      text = `sudo: ${troubled ? pick(users) : 'ops'} : TTY=pts/${n % 5} ; PWD=/home/ops ; USER=root ; COMMAND=${pick(['/usr/bin/systemctl restart nginx', '/usr/bin/tail -n 100 /var/log/messages', '/usr/sbin/iptables -L'])}`;
    } else if (roll < 0.68 && troubled) {
      text = `useradd[${2000 + n}]: new user: name=tmp${n}, UID=${1100 + n}, GID=${1100 + n}, home=/home/tmp${n}, shell=/bin/bash`;
    } else if (system.zone === '互联网区' || roll < 0.9) {
      const status = troubled ? pick([200, 200, 200, 200, 302, 304, 401, 403, 404, 500]) : pick([200, 200, 200, 302, 304]);
      const path = troubled ? pick(['/', '/api/login', '/api/items?page=2', '/static/app.js', '/admin/', '/wp-login.php']) : pick(['/', '/api/login', '/api/items?page=2', '/static/app.js']);
      text = `nginx: ${pick(troubled ? [...insiders, ...attackers] : insiders)} - - [${accessTime(at)}] "GET ${path} HTTP/1.1" ${status} ${200 + (n % 5000)} "-" "Mozilla/5.0"`;
    } else {
      text = `CRON[${3000 + n}]: (root) CMD (/usr/local/bin/backup.sh ${system.id})`;
    }
    lines.push({ at, text: `${syslogTime(at)} ${host} ${text}` });
  }

  // One SSH brute-force burst against an internet-facing host: 60 failures in five minutes.
  const target = hosts.find(({ system }) => system.zone === '互联网区') ?? hosts[0]!;
  const burst = anchor - 2 * 3_600_000;
  for (let n = 0; n < 60; n += 1) {
    lines.push({
      at: burst + n * 5_000,
      text: `${syslogTime(burst + n * 5_000)} ${target.host} sshd[${9000 + n}]: Failed password for invalid user admin${n % 4} from 203.0.113.45 port ${50000 + n} ssh2`,
    });
  }
  for (let n = 0; n < 5; n += 1) {
    const at = anchor - (n + 1) * 600_000;
    lines.push({ at, text: `${syslogTime(at)} legacy-oa-srv03 sshd[77${n}]: Accepted password for admin from 10.99.0.${n + 1} port 2222 ssh2` });
  }
  lines.push({ at: anchor - 1, text: '\u0000\u0001garbled binary record' });
  lines.push({ at: anchor - 2, text: 'Nov 99 25:61:00 truncated' });
  lines.push({ at: anchor - 3, text: '{"@timestamp": "not a time", "message": "bad json event"}' });

  lines.sort((a, b) => a.at - b.at);
  return lines.map((line, index) => ({ text: line.text, position: `demo:${anchor}:${index}` }));
}

/** Systems (by position in the inventory) whose day of logs holds off-hours work, odd accounts and probes. */
const TROUBLED_SYSTEM_POSITIONS = [1, 4, 10, 15, 26, 31];

/** The same day, moved into 09:00–18:00 China Standard Time. */
function officeHours(ms: number, fraction: number): number {
  const midnight = Math.floor((ms + SHANGHAI_OFFSET_MS) / 86_400_000) * 86_400_000 - SHANGHAI_OFFSET_MS;
  const at = midnight + 9 * 3_600_000 + Math.floor(fraction * 9 * 3_600_000);
  return at > ms ? at - 86_400_000 : at; // never later than the sample: the day of logs ends now
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Nov 26 09:05:01` in China Standard Time, as rsyslog writes it. */
function syslogTime(ms: number): string {
  const d = new Date(ms + SHANGHAI_OFFSET_MS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `26/Nov/2026:09:05:01 +0800`, the nginx access-log time. */
function accessTime(ms: number): string {
  const d = new Date(ms + SHANGHAI_OFFSET_MS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0800`;
}


/** Systems whose hosts the live demo keeps quiet (by position in the inventory): silent sources to find. */
const SILENT_SYSTEM_POSITIONS = [6, 21, 33];

/** The hosts the live demo keeps reporting: all but those of a few systems, which go silent. */
export function demoReportingHosts(inventory: Inventory): string[] {
  const silent = new Set(SILENT_SYSTEM_POSITIONS.map((position) => inventory.systems[position]?.id));
  return inventory.systems.filter((system) => !silent.has(system.id)).flatMap((system) => system.hosts);
}

/** One ordinary line per reporting host, stamped `now`: what keeps the sources from going silent. */
export function demoLiveLines(inventory: Inventory, now: Date, tick: number): Line[] {
  const random = seededRandom(Math.floor(now.getTime() / 1000));
  const at = now.getTime();
  // Everyday accounts only: the privileged ones at night are what the rules look for.
  const users = ['zhangwei', 'liuyang', 'wangfang', 'chenjing'];
  return demoReportingHosts(inventory).map((host, n) => {
    const roll = random();
    const text = roll < 0.4
      ? `sshd[${20000 + n}]: Accepted publickey for ${users[n % users.length]} from 10.20.4.${100 + (n % 50)} port ${40000 + n} ssh2`
      : roll < 0.7
        ? `nginx: 10.20.4.${100 + (n % 50)} - - [${accessTime(at)}] "GET /api/items?page=${1 + (n % 9)} HTTP/1.1" 200 ${300 + n} "-" "Mozilla/5.0"`
        : `CRON[${30000 + n}]: (root) CMD (/usr/local/bin/healthcheck.sh)`;
    return { text: `${syslogTime(at)} ${host} ${text}`, position: `live:${at}:${tick}:${n}` };
  });
}

export const DEMO_INCIDENTS = ['ssh-break-in', 'webshell', 'db-mass-export', 'audit-disabled', 'backup-failure'] as const;
export type DemoIncidentKind = (typeof DEMO_INCIDENTS)[number];

export interface DemoIncident {
  kind: DemoIncidentKind;
  system: string;
  /** zh-CN / English, for the log. */
  title: string;
  /** Syslog lines (format auto) and MariaDB audit records (format mariadb-audit); the backup failure has none. */
  syslog: Line[];
  dbAudit: Line[];
}

const INCIDENT_TITLES: Record<DemoIncidentKind, string> = {
  'ssh-break-in': 'SSH 暴力破解后登录成功 / SSH brute force, then a successful login',
  webshell: 'Webshell 探测 / webshell probe',
  'db-mass-export': '数据库批量导出 / mass export from a database',
  'audit-disabled': '数据库审计被关闭 / database audit switched off',
  'backup-failure': '备份集损坏 / a backup set corrupted',
};

/** `20261126 09:15:01`, the MariaDB server_audit time (local, +08:00). */
function auditTime(ms: number): string {
  const d = new Date(ms + SHANGHAI_OFFSET_MS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * The `sequence`-th scripted incident, played `now` on a system chosen by turn among those it
 * fits (internet-facing web hosts for a webshell, MariaDB servers for database incidents…), or on
 * `onSystem` when that system fits it (undefined when it does not).
 */
export function demoIncident(inventory: Inventory, sequence: number, now: Date, onSystem?: string): DemoIncident | undefined {
  const kind = DEMO_INCIDENTS[sequence % DEMO_INCIDENTS.length]!;
  const round = Math.floor(sequence / DEMO_INCIDENTS.length);
  const fits = inventory.systems.filter((system) => {
    if (kind === 'db-mass-export' || kind === 'audit-disabled') return system.databases.some((d) => d.engine === 'mariadb' || d.engine === 'mysql');
    if (kind === 'backup-failure') return system.backup !== undefined;
    return system.hosts.length > 0;
  });
  const preferred = kind === 'webshell' || kind === 'ssh-break-in' ? fits.filter((s) => s.zone === '互联网区') : [];
  const pool = preferred.length ? preferred : fits;
  const system = onSystem !== undefined ? fits.find((s) => s.id === onSystem) : pool[(round * 7 + sequence) % Math.max(pool.length, 1)];
  if (!system) return undefined;
  const at = now.getTime();
  const host = system.hosts[0] ?? system.id;
  const attacker = `203.0.113.${10 + (sequence % 200)}`;
  const id = (n: number) => `incident:${at}:${sequence}:${n}`;
  const syslog: Line[] = [];
  const dbAudit: Line[] = [];
  if (kind === 'ssh-break-in') {
    // 15 failures in 30 seconds, then the password works: the brute-force correlation and the break-in rule.
    for (let n = 0; n < 15; n += 1) {
      const t = at - 30_000 + n * 2_000;
      syslog.push({ text: `${syslogTime(t)} ${host} sshd[${50000 + n}]: Failed password for root from ${attacker} port ${51000 + n} ssh2`, position: id(n) });
    }
    syslog.push({ text: `${syslogTime(at)} ${host} sshd[50099]: Accepted password for root from ${attacker} port 51099 ssh2`, position: id(99) });
  } else if (kind === 'webshell') {
    const paths = ['/uploads/2026/11/avatar.php?cmd=whoami', '/static/c99.php', '/admin/help.jsp?cmd=cat%20/etc/passwd'];
    paths.forEach((path, n) => syslog.push({
      text: `${syslogTime(at)} ${host} nginx: ${attacker} - - [${accessTime(at)}] "GET ${path} HTTP/1.1" 200 1024 "-" "Mozilla/5.0"`, position: id(n),
    }));
  } else if (kind === 'db-mass-export' || kind === 'audit-disabled') {
    const database = system.databases.find((d) => d.engine === 'mariadb' || d.engine === 'mysql')!;
    if (kind === 'audit-disabled') {
      dbAudit.push({ text: `${auditTime(at)},${database.host},root,localhost,12,167,QUERY,,'SET GLOBAL server_audit_logging=OFF',0`, position: id(0) });
    } else {
      // 220 reads by one account from one client in under four minutes: past the mass-export threshold of 200 in 10 minutes.
      for (let n = 0; n < 220; n += 1) {
        dbAudit.push({
          text: `${auditTime(at - 220_000 + n * 1_000)},${database.host},app_reader,10.20.4.77,31,${1000 + n},QUERY,${database.name},'SELECT * FROM citizens WHERE id > ${n * 500} LIMIT 500',0`,
          position: id(n),
        });
      }
    }
  }
  return { kind, system: system.id, title: INCIDENT_TITLES[kind], syslog, dbAudit };
}
