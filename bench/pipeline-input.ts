import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadInventory, sleep } from '../core/index.js';
import { demoLogLines } from '../collectors/index.js';

const RFC3164 = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\s[:]+)(?:\[\d+\])?: (.*)$/;
const OPENSSH = 'test/fixtures/logs/loghub/OpenSSH/OpenSSH_2k.log';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `count` syslog lines for the pipeline bench, the same for every receiver: the demo traffic of the city
 * inventory (sshd, sudo, cron, nginx, useradd on the inventory's hosts, so rules fire and events map to
 * systems) and the loghub OpenSSH log, every other line as RFC 5424 and the rest as RFC 3164. Each line
 * is unique (its pid is its number): our collector stores a relayed duplicate once, the peers twice.
 * Times are the last hour before `now`, in UTC+8 for RFC 3164 (our default zone) and with an offset for 5424.
 */
export function pipelineInput(count: number, now = new Date()): string[] {
  const templates = [
    ...demoLogLines(loadInventory('config/inventory.demo.yaml'), now).map((line) => line.text),
    ...readFileSync(OPENSSH, 'utf8').split('\n').map((line) => line.replace(/\r$/, '')),
  ].flatMap((text) => {
    const match = RFC3164.exec(text);
    return match ? [{ host: match[2]!, program: match[3]!, message: match[4]! }] : [];
  });
  const start = now.getTime() - 3_600_000;
  const lines: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const { host, program, message } = templates[i % templates.length]!;
    const at = new Date(start + Math.floor((i / count) * 3_500_000));
    const pid = 10_000 + i;
    // auth.info (4 × 8 + 6 = 38) for sshd/sudo, daemon.info otherwise
    const pri = program === 'sshd' || program === 'sudo' ? 38 : 30;
    if (i % 2) {
      lines.push(`<${pri}>1 ${at.toISOString().replace('Z', '+00:00')} ${host} ${program} ${pid} - - ${message}`);
    } else {
      const local = new Date(at.getTime() + 8 * 3_600_000);
      const day = String(local.getUTCDate()).padStart(2, ' ');
      const time = local.toISOString().slice(11, 19);
      lines.push(`<${pri}>${MONTHS[local.getUTCMonth()]} ${day} ${time} ${host} ${program}[${pid}]: ${message}`);
    }
  }
  return lines;
}

/**
 * Sends the lines over `connections` TCP connections (newline framing), connection i to ports[i % ports.length],
 * each carrying an equal share. Resolves once every byte is handed to the kernel and every socket closed.
 */
export async function sendSyslog(ports: readonly number[], lines: readonly string[], connections: number): Promise<void> {
  const shares = Array.from({ length: connections }, (_, c) => lines.filter((_, i) => i % connections === c));
  await Promise.all(shares.map(async (share, c) => {
    const socket = connect({ port: ports[c % ports.length]!, host: '127.0.0.1' });
    await once(socket, 'connect');
    const body = Buffer.from(share.map((line) => `${line}\n`).join(''));
    // In 1 MiB writes, honouring back-pressure: a slow receiver slows the sender, as over a real network.
    for (let offset = 0; offset < body.length; offset += 1 << 20) {
      if (!socket.write(body.subarray(offset, offset + (1 << 20)))) await once(socket, 'drain');
    }
    socket.end();
    await once(socket, 'close');
  }));
}

/**
 * Polls `count` until it reaches `target`. Fails when nothing new arrives for `stallMs`
 * (a receiver that dropped or rejected events would otherwise be waited for forever).
 */
export async function waitForCount(count: () => Promise<number>, target: number, what: string, stallMs = 60_000): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const now = await count();
    if (now >= target) return;
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new Error(`${what}: ${now.toLocaleString('en-US')} of ${target.toLocaleString('en-US')} events queryable, none more for ${stallMs / 1000} s`);
    }
    await sleep(50);
  }
}
