import type { Inventory } from '../core/index.js';
import type { Line } from './line-ingest.js';

/**
 * The bundled demo log set: a day of syslog from the demo inventory's hosts — logins, sudo,
 * account changes, web access, one SSH brute-force burst, a few lines from an unknown host and
 * a few malformed lines (which become dead letters). Seeded, so the same hour gives the same lines
 * and a restart within it stores nothing twice.
 */
export function demoLogLines(inventory: Inventory, now = new Date()): Line[] {
  const anchor = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const random = mulberry32(anchor / 3_600_000);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const lines: { at: number; text: string }[] = [];
  const hosts = inventory.systems.flatMap((system) => system.hosts.map((host) => ({ host, system })));
  if (hosts.length === 0) return [];
  const users = ['ops', 'dbadmin', 'zhangwei', 'liuyang', 'wangfang', 'backup'];
  const insiders = ['10.20.4.100', '10.20.4.101', '10.30.8.15'];
  const attackers = ['203.0.113.45', '198.51.100.23', '203.0.113.77'];
  const day = 86_400_000;

  for (let n = 0; n < 1200; n += 1) {
    const at = anchor - Math.floor(random() * day);
    const { host, system } = pick(hosts);
    const roll = random();
    let text: string;
    if (roll < 0.35) {
      text = `sshd[${1000 + n}]: Accepted publickey for ${pick(users)} from ${pick(insiders)} port ${40000 + n} ssh2`;
    } else if (roll < 0.5) {
      text = `sshd[${1000 + n}]: Failed password for ${pick(['root', 'admin', 'oracle', pick(users)])} from ${pick([...insiders, ...attackers])} port ${40000 + n} ssh2`;
    } else if (roll < 0.65) {
      text = `sudo: ${pick(users)} : TTY=pts/${n % 5} ; PWD=/home/ops ; USER=root ; COMMAND=${pick(['/usr/bin/systemctl restart nginx', '/usr/bin/tail -n 100 /var/log/messages', '/usr/sbin/iptables -L'])}`;
    } else if (roll < 0.68) {
      text = `useradd[${2000 + n}]: new user: name=tmp${n}, UID=${1100 + n}, GID=${1100 + n}, home=/home/tmp${n}, shell=/bin/bash`;
    } else if (system.zone === '互联网区' || roll < 0.9) {
      const status = pick([200, 200, 200, 200, 302, 304, 401, 403, 404, 500]);
      const path = pick(['/', '/api/login', '/api/items?page=2', '/static/app.js', '/admin/', '/wp-login.php']);
      text = `nginx: ${pick([...insiders, ...attackers])} - - [${accessTime(at)}] "GET ${path} HTTP/1.1" ${status} ${200 + (n % 5000)} "-" "Mozilla/5.0"`;
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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const CST = 8 * 3_600_000;

/** `Nov 26 09:05:01` in China Standard Time, as rsyslog writes it. */
function syslogTime(ms: number): string {
  const d = new Date(ms + CST);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `26/Nov/2026:09:05:01 +0800`, the nginx access-log time. */
function accessTime(ms: number): string {
  const d = new Date(ms + CST);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0800`;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
