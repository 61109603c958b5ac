/**
 * Tables the inventory marks as personal data (system `sensitiveTables`): database events that name
 * them are tagged `db.sensitive_tables`, from db.objects and the statement, by whole word only.
 */
import { describe, expect, it } from 'vitest';
import { resolveFormat } from '../../collectors/index.js';
import { AssetIndex, inventoryFromCsv, inventoryFromYaml } from '../../core/index.js';

const inventory = inventoryFromYaml(`
departments: [{ id: rsj, name: 人社局 }]
systems:
  - id: rsj-shbx
    name: 社保
    department: rsj
    mlpsLevel: 3
    zone: 政务外网
    owner: { name: 张工 }
    hosts: [rsj-shbx-db01]
    sensitiveTables: [shbx.insured_person, Pension$Account]
  - { id: rsj-oa, name: OA, department: rsj, mlpsLevel: 2, zone: 政务外网, owner: { name: 王工 }, hosts: [rsj-oa-db01] }
`, 'inventory.yaml');
const assets = new AssetIndex(inventory);
const now = new Date('2026-11-30T00:00:00Z');

function tagsOf(format: string, host: string, text: string): unknown {
  const decoded = resolveFormat({ source: 's', format, assets, host }).decode({ text, position: '1' }, { now });
  if (!decoded.ok) throw new Error(decoded.reason);
  return (decoded.event.db as { sensitive_tables?: string[] }).sensitive_tables;
}

describe('sensitive tables', () => {
  it('tags reads of listed tables by object and by statement, case-insensitively and as whole words', () => {
    expect(tagsOf('pgaudit', 'rsj-shbx-db01', '2026-11-26 09:15:01.123 CST [1234] app@shbx LOG:  AUDIT: OBJECT,1,1,READ,SELECT,TABLE,public.insured_person,"select * from public.INSURED_PERSON",<not logged>'))
      .toEqual(['insured_person']);
    expect(tagsOf('mariadb-audit', 'rsj-shbx-db01', "20261126 09:15:01,rsj-shbx-db01,app,10.0.0.5,12,40,QUERY,shbx,'select a.x from pension$account a join insured_person b on 1',0"))
      .toEqual(['insured_person', 'pension$account']);
    expect(tagsOf('mariadb-audit', 'rsj-shbx-db01', "20261126 09:15:01,rsj-shbx-db01,app,10.0.0.5,12,40,QUERY,shbx,'select * from insured_person_note',0")).toBeUndefined();
    // Another system's database: its list is its own (empty here).
    expect(tagsOf('mariadb-audit', 'rsj-oa-db01', "20261126 09:15:01,rsj-oa-db01,app,10.0.0.5,12,40,QUERY,oa,'select * from insured_person',0")).toBeUndefined();
  });

  it('reads sensitive_tables from the CSV inventory and refuses names that are not table names', () => {
    const csv = inventoryFromCsv(`department_id,department_name,system_id,system_name,mlps_level,zone,owner,hosts,sensitive_tables
rsj,人社局,rsj-shbx,社保,3,政务外网,张工,rsj-shbx-db01,shbx.insured_person;pension_account
`);
    expect(csv.systems[0]!.sensitiveTables).toEqual(['shbx.insured_person', 'pension_account']);
    expect(() => inventoryFromYaml(`
departments: [{ id: rsj, name: 人社局 }]
systems:
  - { id: a, name: A, department: rsj, mlpsLevel: 3, zone: 政务外网, owner: { name: x }, sensitiveTables: ['x; drop table y'] }
`, 'i.yaml')).toThrow(/sensitiveTables/);
  });
});
