import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, isIP, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { alertPriority, ConfigSchema, type Alert } from '../../../core/index.js';
import { buildMessage, NotifyPlanner, resolveChannels, sendDispatch, userRecipients, type Dispatch, type ResolvedChannel } from '../../../analyzers/notify/index.js';
import { guardedAgent, postJson } from '../../../analyzers/notify/channels/http-post.js';
import { allowedAddresses, type ResolveAll } from '../../../analyzers/notify/targets.js';

/* A hostile review of notifications: receivers and event values an attacker controls. */

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function alert(extra: Partial<Alert> = {}): Alert {
  const at = '2026-12-07T02:00:00.000Z';
  return {
    id: `a-${randomUUID()}`, rule: { id: 'db-brute', title: '数据库暴力破解 DB brute force', level: 'critical' }, mlps: ['8.1.4.3 a)'], department: '市大数据局',
    system: 'gov-portal', mlpsLevel: 3, priority: alertPriority('critical', 3), status: 'new', timeline: [], firstSeen: at, lastSeen: at, count: 1,
    sampleEventIds: [], groupKey: 'user.name=root', ...extra,
  };
}

function dispatchFor(channelId: string, a: Alert = alert()): Dispatch {
  const config = ConfigSchema.parse({ notify: { channels: [{ id: channelId, type: 'webhook', url: 'http://x' }], routes: [{ id: 'r', channels: [channelId] }] } }).notify;
  return new NotifyPlanner({ config, now: () => Date.parse(a.firstSeen) }).accept(a)[0]!;
}

function channel(raw: Record<string, unknown>): ResolvedChannel {
  const config = ConfigSchema.parse({ notify: { channels: [raw] } }).notify;
  return resolveChannels(config).get(raw.id as string)!;
}

describe('a hostile webhook receiver', () => {
  it('cannot make the sender read an endless answer into memory', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) written += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
    const robot = channel({ id: 'flood', type: 'wecom', url: `${url}?key=k` });
    const error = await sendDispatch(robot, dispatchFor('flood'), { timeoutMs: 3000 }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
    // The reply is read up to a small cap, then the connection is dropped (not read on until the timeout).
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('event values in plain-text messages', () => {
  it('cannot start a forged line in the text, email body or SMS of a message', () => {
    const hostile = alert({ system: 'web01\r\n级别 Level: 提示 informational', groupKey: 'user.name=x\u2028查看 Open: https://evil.example/sso\n' });
    const message = buildMessage(dispatchFor('t', hostile), 'https://soc.example.gov.cn');
    for (const text of [message.text, message.subject, message.short]) {
      expect(text.split(/\r\n|[\r\n\u2028\u2029\u0085]/).filter((line) => /^(级别 Level|查看 Open: https:\/\/evil)/.test(line))).toEqual(
        text === message.text ? [expect.stringContaining('级别 Level: 严重')] : [],
      );
    }
    expect(message.subject).not.toMatch(/[\r\n]/);
  });
});

describe('a hostile SMTP server', () => {
  it('cannot hold a delivery by trickling an answer that never ends', async () => {
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('220 trickle ESMTP\r\n');
      // Each EHLO is answered by continuation lines that never end: never idle, never done.
      socket.once('data', () => {
        const timer = setInterval(() => socket.write('250-still thinking\r\n'), 20);
        socket.on('close', () => clearInterval(timer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
    const mail = channel({ id: 'slow-mail', type: 'email', host: '127.0.0.1', port: (server.address() as AddressInfo).port, security: 'none', from: 'a@example.gov.cn', to: ['b@example.gov.cn'] });
    const error = await sendDispatch(mail, dispatchFor('slow-mail'), { timeoutMs: 300 }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
    expect((error as Error).message).toContain('TimeoutError');
  }, 10_000);
});

describe('channel addresses', () => {
  /** A DNS answer for any name: what a hostile or rebinding resolver could hand the sender after the start-up check. */
  const resolvesTo = (...addresses: string[]): ResolveAll => (_host, _options, callback) =>
    callback(null, addresses.map((address) => ({ address, family: isIP(address) })));

  it('refuses at send time a host name that resolves to a metadata address, naming why and not the URL', async () => {
    let reached = 0;
    const server = createHttpServer((req, res) => {
      reached += 1;
      req.resume();
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://hook.example.gov.cn:${(server.address() as AddressInfo).port}/in?token=SECRET`;
    // The name passes the start-up check (it is no address); only its answer is hostile. One refused address in an
    // answer refuses it all: the socket could try any of them.
    for (const answer of [['169.254.169.254'], ['127.0.0.1', '169.254.169.254'], ['::ffff:169.254.169.254'], ['100.100.100.200'], ['fe80::1'], ['64:ff9b::a9fe:a9fe'], ['2002:a9fe:a9fe::1'], ['64:ff9b::6464:64c8']]) {
      const error = await postJson('hook', url, '{}', {}, 5000, guardedAgent(resolvesTo(...answer))).catch((e: Error) => e);
      expect(error, answer.join(',')).toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
      expect((error as Error).message).toContain('request failed (points at a link-local or cloud metadata address');
      expect((error as Error).message).not.toContain('SECRET');
    }
    expect(reached).toBe(0);
    await postJson('hook', url, '{}', {}, 5000, guardedAgent(resolvesTo('127.0.0.1')));
    expect(reached).toBe(1);
    // An SMTP server's name is resolved through the same check before nodemailer connects to the address it passed.
    await expect(allowedAddresses('smtp.example.gov.cn', resolvesTo('169.254.169.254'))).rejects.toMatchObject({ code: 'SW_REFUSED_ADDRESS' });
    expect(await allowedAddresses('smtp.example.gov.cn', resolvesTo('10.1.2.3'))).toEqual([{ address: '10.1.2.3', family: 4 }]);
  });

  it('refuses a cloud metadata or link-local address at start, naming the field and not the URL', () => {
    for (const url of ['http://169.254.169.254/latest/meta-data?token=SECRET', 'http://100.100.100.200/latest/meta-data?token=SECRET', 'http://[fe80::1]/x?token=SECRET']) {
      const config = ConfigSchema.parse({ notify: { channels: [{ id: 'meta', type: 'webhook', url }] } }).notify;
      let error: Error | undefined;
      try {
        resolveChannels(config);
      } catch (e) {
        error = e as Error;
      }
      expect(error).toMatchObject({ code: 'SW_ERR_NOTIFY_CONFIG' });
      expect(error!.message).toContain('notify.channels.meta.url');
      expect(error!.message).not.toContain('SECRET');
    }
  });

  it('refuses a robot URL that is not an absolute http(s) URL at start, so the key never reaches a request error or a log', () => {
    for (const url of ['oapi.dingtalk.com/robot/send?access_token=SECRET', 'file:///etc/passwd?access_token=SECRET']) {
      const config = ConfigSchema.parse({ notify: { channels: [{ id: 'ding', type: 'dingtalk', url, secret: 's' }] } }).notify;
      let error: Error | undefined;
      try {
        resolveChannels(config);
      } catch (e) {
        error = e as Error;
      }
      expect(error).toMatchObject({ code: 'SW_ERR_NOTIFY_CONFIG' });
      expect(error!.message).toContain('notify.channels.ding.url');
      expect(JSON.stringify({ ...error, message: error!.message })).not.toContain('SECRET');
    }
  });
});

describe('department contacts on held messages', () => {
  const contacts = (department: string | undefined) => ({ emails: department ? [`sec@${department}.gov.cn`] : [], phones: [] });
  const at = Date.parse('2026-12-07T15:00:00Z'); // 23:00 in Beijing: quiet hours

  it('keeps the contacts of each department on what waited out quiet hours, never mixing two departments in one message', () => {
    const config = ConfigSchema.parse({
      notify: {
        channels: [{ id: 'mail', type: 'webhook', url: 'http://127.0.0.1:1/m' }],
        routes: [{ id: 'dept', channels: ['mail'], toDepartment: true }],
        quietHours: { from: '22:00', to: '07:00', utcOffset: '+08:00' },
      },
    }).notify;
    let now = at;
    const planner = new NotifyPlanner({ config, now: () => now, contactsOf: contacts });
    const a = alert({ rule: { id: 'r1', title: 't', level: 'high' }, department: 'dept-a', system: 'sys-a', firstSeen: new Date(at).toISOString() });
    const b = alert({ rule: { id: 'r2', title: 't', level: 'high' }, department: 'dept-b', system: 'sys-b', firstSeen: new Date(at).toISOString() });
    expect([...planner.accept(a), ...planner.accept(b)]).toEqual([]);
    now = Date.parse('2026-12-07T23:30:00Z'); // 07:30 next morning
    const held = planner.tick().filter((d) => d.kind === 'held');
    expect(held.map((d) => [d.alerts.map((x) => x.department), d.recipients?.emails]).sort()).toEqual([
      [['dept-a'], ['sec@dept-a.gov.cn']], [['dept-b'], ['sec@dept-b.gov.cn']],
    ]);
    expect(new Set(held.map((d) => d.key)).size).toBe(2);
  });
});

describe('event values as links', () => {
  it('cannot plant a bare link that chat clients and mail readers turn clickable: a URL in an event value loses its "://"', () => {
    const hostile = alert({ system: 'http://evil.example/a', groupKey: 'user.name=请登录 https://evil.example/sso?x=1 重置' });
    const { markdown, text } = buildMessage(dispatchFor('t', hostile), 'https://soc.example.gov.cn');
    expect(markdown).not.toMatch(/[a-z]+:\/\/evil/i);
    expect(markdown).toContain('evil.example/sso'); // still readable
    expect(markdown.match(/https:\/\//g)).toHaveLength(2); // the console link, as text and as its target
    expect(text).not.toMatch(/[a-z]+:\/\/evil/i);
    expect(text.match(/https:\/\//g)).toHaveLength(1);
  });
});

describe('subscribers and department scope', () => {
  it('never sends alerts to a department viewer without departments, whom the console shows nothing', () => {
    const notifications = { email: 'viewer@example.gov.cn', minLevel: 'low' as const, optOut: false };
    const viewer = { username: 'v', role: 'department_viewer', departments: [], disabled: false, notifications };
    const officer = { username: 'o', role: 'security_officer', departments: [], disabled: false, notifications: { ...notifications, email: 'soc@example.gov.cn' } };
    expect(userRecipients([viewer, officer], alert()).emails).toEqual(['soc@example.gov.cn']);
  });
});
