import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger, loadConfig } from '../../core/index.js';
import { startRuntime } from '../../bin/runtime.js';
import { startReceiver, verifyWebhook } from '../analyzers/notify/receivers.js';
import { eventuallyValue } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-notify-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const waitFor = <T>(read: () => Promise<T> | T, ok: (value: T) => boolean, what: string, timeout = 60_000) =>
  eventuallyValue(read, ok, what, { timeout });

describe('shouwang start with notifications', () => {
  it.each([
    ['all roles', undefined],
    ['--roles collect (the rules raise alerts in the collecting process)', ['collect'] as const],
  ])('a syslog line that raises a critical alert reaches the webhook, and the attempt is on the alert timeline: %s', async (_name, roles) => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    const file = join(dir, 'shouwang.yaml');
    writeFileSync(file, JSON.stringify({
      dataDir: join(dir, `data-${randomUUID()}`), redis: { url: inject('redisUrl') }, http: { port: 0 },
      backup: { queuePrefix: `test-${randomUUID()}` }, demo: { enabled: false, replay: false },
      collect: { syslog: { tcpPort: 0 } },
      notify: {
        consoleUrl: 'https://soc.example.gov.cn',
        channels: [{ id: 'hook', type: 'webhook', url: `${receiver.url}/h`, secret: 'runtime-secret' }],
        routes: [{ id: 'critical', match: { minLevel: 'critical' }, channels: ['hook'] }],
      },
    }));
    const { config } = loadConfig({ file, env: {} });
    const runtime = await startRuntime(config, createLogger({ level: 'silent' }), roles);
    try {
      const socket = connect({ port: runtime.syslogPorts.tcp!, host: '127.0.0.1' });
      await new Promise((resolve) => socket.once('connect', resolve));
      await new Promise<void>((resolve) => socket.end('<38>Nov 20 10:00:01 gaj-jwzh-app01 useradd[123]: new user: name=backdoor, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/0\n', () => resolve()));
      await waitFor(() => receiver.requests.length, (n) => n >= 1, 'the webhook');
      const body = JSON.parse(receiver.requests[0]!.body) as { kind: string; alerts: { id: string; rule: { level: string }; system?: string }[] };
      expect(verifyWebhook('runtime-secret', receiver.requests[0]!)).toBe(true);
      expect(body.kind).toBe('alert');
      expect(body.alerts[0]!.rule.level).toBe('critical');
      const alertId = body.alerts[0]!.id;
      const stored = await waitFor(() => runtime.store.alerts.get(alertId), (a) => !!a?.timeline.some((e) => e.action === 'notify'), 'the timeline entry');
      expect(stored!.timeline.find((e) => e.action === 'notify')).toMatchObject({ notification: { channel: 'hook', route: 'critical', outcome: 'delivered' } });
    } finally {
      await runtime.close();
      await receiver.close();
    }
  }, 120_000);
});
