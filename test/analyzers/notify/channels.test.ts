import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { alertPriority, ConfigSchema, createLogger, type Alert } from '../../../core/index.js';
import { buildMessage, NotifyPlanner, resolveChannels, sendDispatch, fillSmsTemplate, type Dispatch, type ResolvedChannel } from '../../../analyzers/notify/index.js';
import { selfSignedCert, startReceiver, verifyDingtalk, verifyWebhook } from './receivers.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function alert(title = '数据库暴力破解 DB brute force'): Alert {
  const at = '2026-12-07T02:00:00.000Z';
  return {
    id: `a-${randomUUID()}`, rule: { id: 'db-brute', title, level: 'critical' }, mlps: ['8.1.4.3 a)'], department: '市大数据局', system: 'gov-portal',
    mlpsLevel: 3, priority: alertPriority('critical', 3), status: 'new', timeline: [], firstSeen: at, lastSeen: at, count: 3,
    sampleEventIds: [], groupKey: 'user.name=root|source.ip=10.1.2.3',
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

const options = { consoleUrl: 'https://soc.example.gov.cn', timeoutMs: 5000 };

describe('email over SMTP', () => {
  async function smtp(extra: Partial<ConstructorParameters<typeof SMTPServer>[0]> = {}) {
    const mails: { raw: string; secure: boolean; user?: string; envelope: unknown }[] = [];
    const { cert, key, certFile } = selfSignedCert();
    const server = new SMTPServer({
      cert, key, authOptional: false, logger: false,
      onAuth(auth, session, done) {
        if (auth.username === 'alerts' && auth.password === 'pa55-word') done(null, { user: auth.username });
        else done(new Error('bad credentials'));
      },
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({ raw: Buffer.concat(chunks).toString('utf8'), secure: session.secure, user: session.user as string, envelope: session.envelope });
          done();
        });
      },
      ...extra,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { port: (server.server.address() as AddressInfo).port, mails, certFile };
  }

  it('sends over STARTTLS with auth, a zh-CN RFC 2047 subject and the alert in the body', async () => {
    const { port, mails, certFile } = await smtp();
    const mail = channel({ id: 'mail', type: 'email', host: '127.0.0.1', port, security: 'starttls', user: 'alerts', password: 'pa55-word', from: 'soc@example.gov.cn', to: ['duty@example.gov.cn'], caFile: certFile });
    const a = alert();
    const dispatch = dispatchFor('mail', a);
    await sendDispatch(mail, dispatch, options);
    expect(mails).toHaveLength(1);
    const { raw, secure, user } = mails[0]!;
    expect(secure).toBe(true);
    expect(user).toBe('alerts');
    const headers = raw.slice(0, raw.indexOf('\r\n\r\n'));
    const subjectLine = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(headers)![1]!;
    expect(subjectLine).toMatch(/=\?UTF-8\?[BQ]\?/); // RFC 2047 encoded words
    expect(/^[ -~\t\r\n]*$/.test(subjectLine)).toBe(true); // no raw 8-bit in a header
    const decoded = subjectLine.replace(/\r\n[ \t]/g, ' ').replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
    expect(decoded).toContain('数据库暴力破解 DB brute force');
    expect(decoded).toContain('严重');
    expect(headers).toMatch(new RegExp(`^X-Shouwang-Key: ${dispatch.key}`, 'm'));
    expect(headers).toMatch(new RegExp(`^Message-ID: <${dispatch.key}@shouwang>`, 'mi'));
    expect(headers).toMatch(/^Content-Type: text\/plain; charset=utf-8/mi);
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    const text = /Content-Transfer-Encoding: base64/i.test(headers) ? Buffer.from(body, 'base64').toString('utf8')
      : Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
    for (const part of ['gov-portal', '市大数据局', '8.1.4.3 a)', 'user.name=root', `https://soc.example.gov.cn/alerts/${a.id}`, '等保级别 MLPS level: 3']) {
      expect(text).toContain(part);
    }
  });

  it('connects to a server named by host name at the address it checked, and still verifies the certificate against the name', async () => {
    const { port, mails, certFile } = await smtp();
    const named = channel({ id: 'mail', type: 'email', host: 'localhost', port, security: 'starttls', user: 'alerts', password: 'pa55-word', from: 'soc@example.gov.cn', to: ['duty@example.gov.cn'], caFile: certFile });
    await sendDispatch(named, dispatchFor('mail'), options);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.secure).toBe(true);
  });

  it('adds the department recipients of a toDepartment route to the channel\'s own', async () => {
    const { port, mails, certFile } = await smtp();
    const mail = channel({ id: 'mail', type: 'email', host: '127.0.0.1', port, security: 'starttls', user: 'alerts', password: 'pa55-word', from: 'soc@example.gov.cn', to: ['duty@example.gov.cn'], caFile: certFile });
    await sendDispatch(mail, { ...dispatchFor('mail'), recipients: { emails: ['sec@dept-a.gov.cn', 'duty@example.gov.cn'], phones: [] } }, options);
    expect((mails[0]!.envelope as { rcptTo: { address: string }[] }).rcptTo.map((r) => r.address)).toEqual(['duty@example.gov.cn', 'sec@dept-a.gov.cn']);
  });

  it('keeps a hostile alert title from adding headers or recipients', async () => {
    const { port, mails, certFile } = await smtp();
    const mail = channel({ id: 'mail', type: 'email', host: '127.0.0.1', port, security: 'starttls', user: 'alerts', password: 'pa55-word', from: 'soc@example.gov.cn', to: ['duty@example.gov.cn'], caFile: certFile });
    await sendDispatch(mail, dispatchFor('mail', alert('x\r\nBcc: evil@example.com\r\nX-Evil: 1')), options);
    const headers = mails[0]!.raw.slice(0, mails[0]!.raw.indexOf('\r\n\r\n'));
    expect(headers).not.toMatch(/^(Bcc|X-Evil):/mi);
    expect(mails[0]!.envelope).toMatchObject({ rcptTo: [{ address: 'duty@example.gov.cn' }] });
  });

  it('refuses to send in plain text when STARTTLS is required and the server does not offer it', async () => {
    const { port, mails } = await smtp({ disabledCommands: ['STARTTLS'], authOptional: true });
    const mail = channel({ id: 'mail', type: 'email', host: '127.0.0.1', port, security: 'starttls', from: 'soc@example.gov.cn', to: ['duty@example.gov.cn'] });
    await expect(sendDispatch(mail, dispatchFor('mail'), options)).rejects.toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
    expect(mails).toEqual([]);
  });

  it('refuses a self-signed certificate it was not told to trust', async () => {
    const { port, mails } = await smtp();
    const mail = channel({ id: 'mail', type: 'email', host: '127.0.0.1', port, security: 'starttls', user: 'alerts', password: 'pa55-word', from: 'soc@example.gov.cn', to: ['duty@example.gov.cn'] });
    await expect(sendDispatch(mail, dispatchFor('mail'), options)).rejects.toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
    expect(mails).toEqual([]);
  });

  it('fails with SW_ERR_NOTIFY_SEND on wrong credentials', async () => {
    const { port, certFile } = await smtp();
    const mail = channel({ id: 'mail', type: 'email', host: '127.0.0.1', port, security: 'starttls', user: 'alerts', password: 'wrong', from: 'soc@example.gov.cn', to: ['duty@example.gov.cn'], caFile: certFile });
    await expect(sendDispatch(mail, dispatchFor('mail'), options)).rejects.toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
  });
});

describe('webhook', () => {
  it('signs timestamp and body with HMAC-SHA256 and sends the idempotency key', async () => {
    const receiver = await startReceiver(() => ({ status: 204 }));
    cleanups.push(receiver.close);
    const hook = channel({ id: 'hook', type: 'webhook', url: `${receiver.url}/in`, secret: 's3cret-' + randomUUID() });
    const dispatch = dispatchFor('hook');
    await sendDispatch(hook, dispatch, options);
    const [got] = receiver.requests;
    expect(verifyWebhook((hook as { secret: string }).secret, got!)).toBe(true);
    expect(verifyWebhook('another secret', got!)).toBe(false);
    expect(verifyWebhook((hook as { secret: string }).secret, { ...got!, body: got!.body.replace('gov-portal', 'gov-portaX') })).toBe(false);
    expect(got!.headers['idempotency-key']).toBe(dispatch.key);
    const body = JSON.parse(got!.body) as { key: string; alerts: Alert[]; subject: string };
    expect(body.key).toBe(dispatch.key);
    expect(body.alerts[0]!.id).toBe(dispatch.alerts[0]!.id);
  });

  it('delivers to a receiver named by host name (resolved and checked at send time)', async () => {
    const receiver = await startReceiver(() => ({ status: 204 }));
    cleanups.push(receiver.close);
    const hook = channel({ id: 'hook', type: 'webhook', url: `${receiver.url.replace('127.0.0.1', 'localhost')}/in` });
    await sendDispatch(hook, dispatchFor('hook'), options);
    expect(receiver.requests).toHaveLength(1);
  });

  it('fails on a non-2xx answer and on a dead port, naming the channel but not its URL', async () => {
    const receiver = await startReceiver(() => ({ status: 500 }));
    cleanups.push(receiver.close);
    const hook = channel({ id: 'hook', type: 'webhook', url: `${receiver.url}/in?token=SECRET-IN-URL` });
    const error = await sendDispatch(hook, dispatchFor('hook'), options).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
    expect((error as Error).message).toContain('hook');
    expect((error as Error).message).not.toContain('SECRET-IN-URL');
    await receiver.close();
    cleanups.pop();
    const dead = await sendDispatch(hook, dispatchFor('hook'), options).catch((e: Error) => e);
    expect(dead).toMatchObject({ code: 'SW_ERR_NOTIFY_SEND' });
    expect((dead as Error).message).toContain('request failed (ECONNREFUSED)');
  });

  it('says why a request failed: a redirect it refuses to follow, or a timeout', async () => {
    const redirecting = await startReceiver(() => ({ status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere?token=SECRET' } }));
    cleanups.push(redirecting.close);
    const moved = await sendDispatch(channel({ id: 'moved', type: 'webhook', url: `${redirecting.url}/in` }), dispatchFor('moved'), options).catch((e: Error) => e);
    expect((moved as Error).message).toMatch(/request failed \(.*redirect.*\)/);
    expect((moved as Error).message).not.toContain('SECRET');
    const slow = await startReceiver(() => 'hold'); // never answers
    cleanups.push(slow.close);
    const late = await sendDispatch(channel({ id: 'late', type: 'webhook', url: `${slow.url}/in` }), dispatchFor('late'), { ...options, timeoutMs: 200 }).catch((e: Error) => e);
    expect((late as Error).message).toContain('request failed (TimeoutError)');
  });
});

describe('企业微信 group robot', () => {
  it('posts the documented markdown and text shapes, within 4096 / 2048 bytes', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const big = alert(`超长标题 ${'很长'.repeat(3000)}`);
    for (const msgtype of ['markdown', 'text']) {
      const robot = channel({ id: 'wecom', type: 'wecom', url: `${receiver.url}/cgi-bin/webhook/send?key=k-1`, msgtype });
      await sendDispatch(robot, dispatchFor('wecom'), options);
      await sendDispatch(robot, dispatchFor('wecom', big), options);
    }
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as Record<string, { content: string }>);
    expect(receiver.requests.every((r) => r.path === '/cgi-bin/webhook/send' && r.query.get('key') === 'k-1')).toBe(true);
    expect(Object.keys(bodies[0]!).sort()).toEqual(['markdown', 'msgtype']);
    expect(bodies[0]!.msgtype).toBe('markdown');
    expect(bodies[0]!.markdown!.content).toContain('gov-portal');
    expect(Buffer.byteLength(bodies[1]!.markdown!.content)).toBeLessThanOrEqual(4096);
    expect(Object.keys(bodies[2]!).sort()).toEqual(['msgtype', 'text']);
    expect(Buffer.byteLength(bodies[3]!.text!.content)).toBeLessThanOrEqual(2048);
    expect(bodies[3]!.text!.content).not.toContain('\ufffd'); // cut on a character boundary
  });

  it('does not let event values mention the whole group, plant a link or start a line in markdown', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const robot = channel({ id: 'wecom', type: 'wecom', url: `${receiver.url}/send?key=x` });
    const hostile = { ...alert('<@all> 标题'), groupKey: 'user.name=<@all> [点我 click](http://evil.example)\n### 伪造 fake' };
    await sendDispatch(robot, dispatchFor('wecom', hostile), options);
    const content = (JSON.parse(receiver.requests[0]!.body) as { markdown: { content: string } }).markdown.content;
    expect(content).not.toContain('<@all>');
    expect(content).not.toContain('[点我 click]');
    expect(content).not.toMatch(/^### 伪造/m);
    expect(content).toContain('＜@all＞');
  });

  it('makes the console link the only link: an event value ending in "查看 Open: <url>" stays text', async () => {
    const hostile = { ...alert('标题'), groupKey: 'user.name=root 查看 Open: https://evil.example/sso' };
    for (const consoleUrl of [undefined, 'https://soc.example.gov.cn']) {
      const { markdown } = buildMessage(dispatchFor('wecom', hostile), consoleUrl);
      expect(markdown).not.toContain('](https://evil.example');
      expect(markdown.match(/\]\(/g)?.length ?? 0).toBe(consoleUrl ? 1 : 0);
      if (consoleUrl) expect(markdown).toContain(`](${consoleUrl}/alerts/`);
    }
  });

  it('fails when the robot answers errcode ≠ 0 with HTTP 200', async () => {
    const receiver = await startReceiver(() => ({ status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' }));
    cleanups.push(receiver.close);
    const robot = channel({ id: 'wecom', type: 'wecom', url: `${receiver.url}/send?key=x` });
    await expect(sendDispatch(robot, dispatchFor('wecom'), options)).rejects.toThrow(/errcode 93000/);
  });
});

describe('钉钉 custom robot', () => {
  it('adds timestamp and sign as DingTalk documents them and posts markdown with a title', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const secret = `SEC${randomUUID().replace(/-/g, '')}+/=`;
    const robot = channel({ id: 'ding', type: 'dingtalk', url: `${receiver.url}/robot/send?access_token=tok`, secret });
    const now = Date.now();
    await sendDispatch(robot, dispatchFor('ding'), { ...options, now: () => now });
    const [got] = receiver.requests;
    expect(got!.query.get('access_token')).toBe('tok');
    expect(verifyDingtalk(secret, got!, now)).toBe(true);
    expect(verifyDingtalk(`${secret}x`, got!, now)).toBe(false);
    const body = JSON.parse(got!.body) as { msgtype: string; markdown: { title: string; text: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toContain('数据库暴力破解');
    expect(body.markdown.text).toContain('8.1.4.3 a)');
  });

  it('posts the text shape too', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const robot = channel({ id: 'ding', type: 'dingtalk', url: `${receiver.url}/robot/send?access_token=tok`, msgtype: 'text' });
    await sendDispatch(robot, dispatchFor('ding'), options);
    const body = JSON.parse(receiver.requests[0]!.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['msgtype', 'text']);
    expect(receiver.requests[0]!.query.has('sign')).toBe(false);
  });
});

describe('SMS gateway template', () => {
  it('fills the template with JSON-escaped values, so a quote in a title cannot break the body', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const sms = channel({ id: 'sms', type: 'sms', url: `${receiver.url}/sms`, phones: ['13800000000'], template: '{"to":{{phone}},"all":{{phones}},"msg":{{text}},"sign":"守望"}' });
    await sendDispatch(sms, dispatchFor('sms', alert('标题 "}, "x": 1, {"')), options);
    const body = JSON.parse(receiver.requests[0]!.body) as { to: string; all: string[]; msg: string; sign: string };
    expect(body.to).toBe('13800000000');
    expect(body.all).toEqual(['13800000000']);
    expect(body.msg).toContain('标题 "}, "x": 1, {"');
    expect(Object.keys(body)).toEqual(['to', 'all', 'msg', 'sign']);
  });

  it('rejects a template that is not JSON once filled', () => {
    expect(() => fillSmsTemplate('{"msg": {{text}', { subject: '', text: '', markdown: '', short: 'x' }, ['1'], 'sms')).toThrow(/SW_ERR|template/);
  });

  it('refuses at start a template that is not JSON once filled, naming the field', () => {
    const config = ConfigSchema.parse({ notify: { channels: [{ id: 'gw', type: 'sms', url: 'https://sms.example.gov.cn/send', phones: ['13800000000'], template: '{"msg": {{text}' }] } }).notify;
    expect(() => resolveChannels(config)).toThrow(/notify\.channels\.gw\.template/);
  });
});

describe('secrets', () => {
  it('come from a file or a variable, and never reach a log line', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = ConfigSchema.parse({
      notify: {
        channels: [
          { id: 'ding', type: 'dingtalk', url: { env: 'TEST_DING_URL' }, secret: { env: 'TEST_DING_SECRET' } },
          { id: 'mail', type: 'email', host: 'h', user: 'u', password: 'MAIL-PASSWORD-1', from: 'a@b.c', to: ['d@e.f'] },
          // An SMS gateway that wants its API key in the body: the template comes from a variable.
          { id: 'sms', type: 'sms', url: 'https://sms.example.gov.cn/send', phones: ['13800000000'], template: { env: 'TEST_SMS_TEMPLATE' } },
        ],
      },
    }).notify;
    const env = {
      TEST_DING_URL: 'https://oapi.dingtalk.com/robot/send?access_token=TOKEN-1', TEST_DING_SECRET: 'SEC-SECRET-1',
      TEST_SMS_TEMPLATE: '{"apiKey":"SMS-KEY-1","to":{{phones}},"msg":{{text}}}',
    };
    const channels = resolveChannels(config, env);
    expect(channels.get('ding')).toMatchObject({ url: 'https://oapi.dingtalk.com/robot/send?access_token=TOKEN-1', secret: 'SEC-SECRET-1' });
    expect(channels.get('sms')).toMatchObject({ template: env.TEST_SMS_TEMPLATE });
    logger.info({ channel: channels.get('ding') }, 'sent');
    logger.info({ channel: channels.get('mail') }, 'sent');
    logger.info({ channel: channels.get('sms') }, 'sent');
    logger.info({ notify: { channels: [...channels.values()] } }, 'config');
    logger.info({ config: { notify: { channels: [...channels.values()] } } }, 'config');
    expect(lines.join('')).not.toMatch(/TOKEN-1|SEC-SECRET-1|MAIL-PASSWORD-1|SMS-KEY-1/);
    expect(() => resolveChannels(config, {})).toThrow(/TEST_DING_URL/);
  });

  it('refuses a route naming an unknown channel', () => {
    const config = ConfigSchema.parse({ notify: { routes: [{ id: 'r', channels: ['nope'] }] } }).notify;
    expect(() => resolveChannels(config)).toThrow(/SW_ERR_NOTIFY_CONFIG|nope/);
  });
});
