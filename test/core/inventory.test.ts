import { chmodSync, copyFileSync, lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AssetIndex, CSV_COLUMNS, formatDuration, inventoryFromCsv, inventoryFromYaml, loadInventory, parseInventory, saveInventory,
} from '../../core/index.js';
import { errorOf } from '../support/errors.js';


const SYSTEM = `
  - id: rsj-shbx
    name: 社会保险信息系统
    department: rsj
    mlpsLevel: 3
    zone: 政务外网
    owner: { name: 王工 }
    hosts: [rsj-shbx-app01]
    ips: [10.20.2.11]
    backup:
      rpo: 24h
      rto: 4h
      sameCity: { type: path, path: /backup/same-city/rsj-shbx }
      offSite: { type: sftp, host: dr.gov.local, user: backup, path: /srv/rsj-shbx }
`;

describe('inventory', () => {
  it('loads the shipped demo inventory: about 20 departments and 40 systems, mostly level 2 and 3', () => {
    const inventory = loadInventory('config/inventory.demo.yaml');
    expect(inventory.departments.length).toBe(20);
    expect(inventory.systems.length).toBe(40);
    const levels = inventory.systems.map((s) => s.mlpsLevel);
    expect(levels.filter((l) => l === 2 || l === 3).length).toBeGreaterThanOrEqual(30);
    expect(levels.filter((l) => l === 4).length).toBeGreaterThan(0);
    expect(inventory.departments.map((d) => d.name)).toEqual(expect.arrayContaining(['市公安局', '市大数据管理局']));
  });

  it('parses durations and fills backup defaults', () => {
    const inventory = inventoryFromYaml(`departments:\n  - { id: rsj, name: 市人社局 }\nsystems:${SYSTEM}`);
    expect(inventory.systems[0]!.backup).toMatchObject({
      rpo: 86_400, rto: 14_400, checkSchedule: '0 2 * * *', offSite: { type: 'sftp', port: 22 },
    });
  });

  it('names the line, the field and the value of a bad YAML entry', () => {
    const text = `departments:\n  - { id: rsj, name: 市人社局 }\nsystems:${SYSTEM.replace('mlpsLevel: 3', 'mlpsLevel: 5').replace('zone: 政务外网', 'zone: 外网')}`;
    const error = errorOf(() => inventoryFromYaml(text, 'city.yaml'));
    expect(error.code).toBe('SW_ERR_INVENTORY_INVALID');
    expect(error.message).toContain('city.yaml');
    expect(error.message).toMatch(/line 7: systems\[0\]\.mlpsLevel, got 5: .*4/);
    expect(error.message).toMatch(/line 8: systems\[0\]\.zone, got "外网": .*政务外网/);
  });

  it('points a missing field at its parent entry', () => {
    const text = `departments:\n  - { id: rsj, name: 市人社局 }\nsystems:${SYSTEM.replace('    owner: { name: 王工 }\n', '')}`;
    expect(errorOf(() => inventoryFromYaml(text)).message).toMatch(/line 4: systems\[0\]\.owner, got nothing/);
  });

  it('catches unknown departments, duplicate ids and a host or IP claimed by two systems', () => {
    const clash = SYSTEM.replace('id: rsj-shbx', 'id: rsj-two').replace('department: rsj', 'department: nowhere');
    const again = SYSTEM.replace('rsj-shbx-app01', 'other-app').replace('10.20.2.11', '10.20.2.99');
    const text = `departments:\n  - { id: rsj, name: 市人社局 }\nsystems:${SYSTEM}${clash}${again}`;
    const error = errorOf(() => inventoryFromYaml(text));
    expect(error.message).toMatch(/systems\[2\]\.id, got "rsj-shbx": duplicate system id/);
    expect(error.message).toMatch(/systems\[1\]\.department, got "nowhere": no department with this id/);
    expect(error.message).toMatch(/systems\[1\]\.hosts\[0\].*already belongs to system rsj-shbx/);
    expect(error.message).toMatch(/systems\[1\]\.ips\[0\].*already belongs to system rsj-shbx/);
  });

  it('reads CSV, one row per system, and names the line and column of a bad cell', () => {
    const header = CSV_COLUMNS.join(',');
    const row = (cells: Partial<Record<(typeof CSV_COLUMNS)[number], string>>) => CSV_COLUMNS.map((c) => cells[c] ?? '').join(',');
    const good = row({
      department_id: 'wjw', department_name: '市卫健委', system_id: 'wjw-qmjk', system_name: '全民健康信息平台', mlps_level: '3',
      zone: '政务外网', owner: '李工', hosts: 'wjw-app01;wjw-db01', ips: '10.20.3.11;10.20.3.15',
      databases: 'postgresql:qmjk@wjw-db01:5432', rpo: '24h', rto: '4h', same_city: '/backup/wjw', off_site: 'sftp://backup@dr.gov.local:2222/srv/wjw',
    });
    const inventory = inventoryFromCsv(`${header}\n${good}\n`);
    expect(inventory.departments).toEqual([{ id: 'wjw', name: '市卫健委' }]);
    expect(inventory.systems[0]).toMatchObject({
      hosts: ['wjw-app01', 'wjw-db01'], databases: [{ engine: 'postgresql', name: 'qmjk', host: 'wjw-db01', port: 5432 }],
      backup: { offSite: { type: 'sftp', user: 'backup', host: 'dr.gov.local', port: 2222, path: '/srv/wjw' } },
    });
    const bad = good.replace('wjw-qmjk', 'wjw-two').replace(',3,', ',high,').replace('10.20.3.11;10.20.3.15', '10.20.3.999');
    const error = errorOf(() => inventoryFromCsv(`${header}\n${good}\n${bad}\n`, 'city.csv'));
    expect(error.message).toContain('city.csv');
    expect(error.message).toMatch(/line 3, column mlps_level, got "high"/);
    expect(error.message).toMatch(/line 3, column ips, got "10.20.3.999": expected an IPv4 or IPv6 address/);
    expect(errorOf(() => inventoryFromCsv('system,level\nx,1\n')).message).toMatch(/unknown column\(s\) system, level/);
  });

  it('maps a host name or an IP to its system, case-insensitively', () => {
    const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
    expect(assets.find('GAJ-JWZH-APP01')).toMatchObject({ id: 'gaj-jwzh', department: 'gaj', mlpsLevel: 4 });
    const system = assets.find('gaj-jwzh-app01')!;
    expect(assets.find(system.ips[0])?.id).toBe('gaj-jwzh');
    expect(assets.find('unknown-host')).toBeUndefined();
  });

  it('swaps the whole index at once when the inventory is replaced', () => {
    const inventory = loadInventory('config/inventory.demo.yaml');
    const assets = new AssetIndex(inventory);
    const [first, ...rest] = inventory.systems;
    assets.replace({ ...inventory, systems: [...rest, { ...first!, id: 'moved', hosts: ['new-host-01'], ips: [] }] });
    expect(assets.find('new-host-01')?.id).toBe('moved');
    expect(assets.find(first!.hosts[0])).toBeUndefined();
  });

  it('writes an inventory back to its file with durations as text, keeping the file it replaces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-inv-'));
    const path = join(dir, 'inventory.yaml');
    copyFileSync('config/inventory.demo.yaml', path);
    const inventory = loadInventory(path);
    const withSource = { ...inventory, systems: inventory.systems.map((s, i) => (i === 0 ? { ...s, logSources: [{ dataset: 'syslog', silentAfter: 5400 }] } : s)) };
    saveInventory(path, withSource, 'admin');
    expect(readFileSync(`${path}.previous`, 'utf8')).toBe(readFileSync('config/inventory.demo.yaml', 'utf8'));
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^# 由控制台保存 \/ saved from the console by admin at /);
    expect(text).toMatch(/silentAfter: 90m/);
    expect(text).toMatch(/rpo: 1d/);
    expect(loadInventory(path)).toEqual(withSource);
    expect(errorOf(() => saveInventory(join(dir, 'inventory.csv'), inventory, 'admin')).code).toBe('SW_ERR_INVENTORY_WRITE');
  });

  it('keeps the file\'s expand placeholders and sensitive tables when the console saves departments and systems (issue #17)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-inv-'));
    const path = join(dir, 'inventory.yaml');
    copyFileSync('config/inventory.demo.yaml', path);
    const { placeholders, ...fromConsole } = loadInventory(path);
    expect(placeholders?.Admins).toContain('dba');
    saveInventory(path, { ...fromConsole, systems: fromConsole.systems.slice(1) }, 'admin');
    const saved = loadInventory(path);
    expect(saved.placeholders).toEqual(placeholders);
    expect(saved.systems.find((s) => s.id === 'rsj-shbx')?.sensitiveTables).toEqual(['shbx.insured_person', 'shbx.pension_account']);
  });

  it('writes through a symlink with the file mode kept, and writes nothing when the inventory did not change', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-inv-'));
    const real = join(dir, 'real.yaml');
    const link = join(dir, 'inventory.yaml');
    copyFileSync('config/inventory.demo.yaml', real);
    chmodSync(real, 0o640);
    symlinkSync(real, link);
    const inventory = loadInventory(link);
    saveInventory(link, inventory, 'admin');
    expect(readFileSync(real, 'utf8')).toBe(readFileSync('config/inventory.demo.yaml', 'utf8'));
    const renamed = { ...inventory, departments: inventory.departments.map((d, i) => (i === 0 ? { ...d, name: '改名' } : d)) };
    saveInventory(link, renamed, 'admin');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(statSync(real).mode & 0o777).toBe(0o640);
    expect(loadInventory(link).departments[0]!.name).toBe('改名');
    expect(readFileSync(`${real}.previous`, 'utf8')).toBe(readFileSync('config/inventory.demo.yaml', 'utf8'));
  });

  it('reads a duration as text or as whole seconds, and writes it in the largest exact unit', () => {
    expect([604_800, 86_400, 5400, 3600, 90, 61].map(formatDuration)).toEqual(['1w', '1d', '90m', '1h', '90s', '61s']);
    const inventory = loadInventory('config/inventory.demo.yaml');
    const system = inventory.systems.find((s) => s.backup)!;
    const again = parseInventory({ ...inventory, systems: [{ ...system, backup: { ...system.backup!, rpo: 7200 } }] }, 'test');
    expect(again.systems[0]!.backup!.rpo).toBe(7200);
    expect(() => parseInventory({ ...inventory, systems: [{ ...system, backup: { ...system.backup!, rpo: -5 } }] }, 'test')).toThrow(/rpo/);
  });

  it('takes one address per contact: a second recipient or a header hidden in an email or phone fails the load, naming the field', () => {
    const inventory = loadInventory('config/inventory.demo.yaml');
    const [first, ...rest] = inventory.departments;
    const withContacts = (contacts: unknown, onCall?: unknown) =>
      ({ ...inventory, departments: [{ ...first!, contacts, ...(onCall ? { onCall } : {}) }, ...rest] });
    // As real inventories write them: area codes in brackets, extensions, capitals.
    const contacts = {
      emails: ['sec@dsj.gov.cn', 'Duty.Officer@DSJ.gov.cn'],
      phones: ['+86 138-0000-0000', '0571-88888888', '(0571)88888888', '0571-8888 8888转123', '+86 (571) 8888 8888', '0571-88888888 ext 12'],
    };
    expect(parseInventory(withContacts(contacts), 'test').departments[0]!.contacts).toEqual(contacts);
    expect(() => parseInventory(withContacts({ emails: ['sec@dsj.gov.cn, attacker@example.com'] }), 'test')).toThrow(/departments\[0\]\.contacts\.emails\[0\]/);
    expect(() => parseInventory(withContacts({ emails: ['sec@dsj.gov.cn\r\nBcc: attacker@example.com'] }), 'test')).toThrow(/contacts\.emails\[0\]/);
    expect(() => parseInventory(withContacts({ phones: ['13800000000,13900000000'] }), 'test')).toThrow(/contacts\.phones\[0\]/);
    expect(() => parseInventory(withContacts(undefined, [{ name: '值班', email: 'a@b.gov.cn;c@d.com', from: '08:00', to: '18:00' }]), 'test'))
      .toThrow(/departments\[0\]\.onCall\[0\]\.email/);
  });

  it('reports a file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-inv-'));
    expect(errorOf(() => loadInventory(join(dir, 'none.yaml'))).code).toBe('SW_ERR_INVENTORY_READ');
    writeFileSync(join(dir, 'bad.yaml'), 'departments: [\n');
    expect(errorOf(() => loadInventory(join(dir, 'bad.yaml'))).code).toBe('SW_ERR_INVENTORY_READ');
  });
});
