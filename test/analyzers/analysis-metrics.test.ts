import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startAnalysis } from '../../analyzers/index.js';
import type { ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-analysis-metrics-'));
const store = new EmbeddedStore({ path: join(dir, 'alerts.db') });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const RULES = `title: ssh failure
id: ssh-fail
logsource: {product: linux}
detection:
  selection: {event.action: ssh_login, event.outcome: failure}
  condition: selection
level: low
---
title: root login
id: root-login
logsource: {product: linux}
detection:
  selection: {event.action: ssh_login, user.name: root}
  condition: selection
level: high
`;

const event = (n: number, user: string, outcome: string): ShouwangEvent => ({
  id: `e${n}`, '@timestamp': new Date(Date.parse('2026-12-06T09:00:00Z') + n * 1000).toISOString(),
  event: { action: 'ssh_login', outcome: outcome as 'failure' }, user: { name: user },
});

describe('analysis metrics', () => {
  it('counts analyzer_signals_total by level over a batch: one per signal, several in one batch', async () => {
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'ssh.yml'), RULES);
    const registry = new Registry();
    const analysis = await startAnalysis({ rulesDir: rules, alerts: store.alerts, latenessMs: 60_000, registry });
    analysis.analyze([event(1, 'root', 'failure'), event(2, 'ops', 'failure'), event(3, 'ops', 'success'), event(4, 'root', 'success')]);
    analysis.analyze([event(5, 'ops', 'failure')]);
    await analysis.close();
    const values = (await registry.getSingleMetric('shouwang_analyzer_signals_total')!.get()).values;
    expect(Object.fromEntries(values.map(({ labels, value }) => [labels.level, value]))).toEqual({ low: 3, high: 2 });
  });
});
