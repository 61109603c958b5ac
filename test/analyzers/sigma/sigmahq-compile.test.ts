/**
 * Every SigmaHQ rule kept in test/fixtures/sigma/rules (all folders, whoever adds them) goes through
 * the product's rule loader and the shipped mapping (rules/mappings/default.yaml), one file at a time
 * as `shouwang rules lint` would: each must compile, except the few listed below with the reason the
 * Sigma specification gives for refusing them. The counts per top folder are printed (and documented
 * in docs/reference/rules.md).
 */
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRuleSet, listRuleFiles, loadDefaultMapping, loadRuleFile } from '../../../analyzers/sigma/index.js';
import { loadInventory } from '../../../core/index.js';

const ROOT = 'test/fixtures/sigma/rules';

/**
 * Rules that cannot compile, by design. Sigma 2 removed the `| count() by …` aggregation from the
 * condition (specification v2.0: "the aggregation expression … is deprecated and replaced by correlation
 * rules"); SigmaHQ still ships a few rules written that way.
 */
const DEPRECATED_AGGREGATION = 'Sigma 1 聚合条件（| count() … by）已弃用，应写为关联规则 / the `| count()` aggregation in a condition was removed in Sigma 2 (use a correlation rule)';
// `(?:.*\)){1,}`: a repeated group around an unbounded `.*` backtracks exponentially on a long run of `)`;
// script text is attacker-written, so analyzers/sigma/regex-safety.ts refuses it (as it would `(a+)+`).
const CATASTROPHIC_REGEX = '正则可能灾难性回溯（嵌套量词）/ the regex can backtrack catastrophically (nested quantifiers): refused by regex-safety.ts';
// A rule whose condition names a search identifier its detection does not define: the Sigma
// specification makes that an error (pySigma refuses it too), so the rule is broken as published.
const UNDEFINED_IDENTIFIER = '条件引用了未定义的检索标识符（规则本身有误）/ the condition names a search identifier the detection does not define (the published rule is broken)';
const REFUSED: Record<string, string> = {
  // condition `selection`, detection `selection_provider` and `selection_service` (SigmaHQ, modified 2025-02-24)
  'windows/builtin/system/service_control_manager/win_system_service_install_anydesk.yml': UNDEFINED_IDENTIFIER,
  'windows/powershell/powershell_script/posh_ps_invoke_obfuscation_var.yml': CATASTROPHIC_REGEX,
  'windows/builtin/security/win_security_global_catalog_enumeration.yml': DEPRECATED_AGGREGATION,
  'network/cisco/aaa/cisco_asa_line_viper_suppressed_syslog_ids.yml': DEPRECATED_AGGREGATION,
  'network/firewall/net_firewall_ddos_dns_amplification.yml': DEPRECATED_AGGREGATION,
  'network/firewall/net_firewall_ddos_icmp_flood.yml': DEPRECATED_AGGREGATION,
  'network/firewall/net_firewall_ddos_multi_vector.yml': DEPRECATED_AGGREGATION,
  'network/firewall/net_firewall_ddos_ntp_amplification.yml': DEPRECATED_AGGREGATION,
  'network/firewall/net_firewall_ddos_syn_flood.yml': DEPRECATED_AGGREGATION,
  'network/firewall/net_firewall_ddos_tcp_rst_fin_flood.yml': DEPRECATED_AGGREGATION,
  'network/firewall/net_firewall_ddos_udp_flood.yml': DEPRECATED_AGGREGATION,
};

interface Outcome {
  file: string;
  folder: string;
  errors: string[];
  /** Titles of the compiled rules no mapping entry covers: those would be tried on every event. */
  uncovered: string[];
}

async function compileEach(): Promise<Outcome[]> {
  const mapping = loadDefaultMapping();
  // The demo inventory's placeholders (%Admins%, %DomainControllers%), as `analyze` would join them in.
  const placeholders = loadInventory('config/inventory.demo.yaml').placeholders;
  const outcomes: Outcome[] = [];
  for (const path of await listRuleFiles(ROOT)) {
    const file = relative(ROOT, path).split('\\').join('/');
    const parsed = await loadRuleFile(path, { skipNonRules: true });
    const set = compileRuleSet(parsed.documents, { mapping, placeholders });
    const errors = [...parsed.problems, ...set.problems].filter((p) => p.severity === 'error').map((p) => `${p.line}: ${p.message}`);
    if (parsed.documents.length === 0 && errors.length === 0) errors.push('no rule document');
    const uncovered = set.rules.filter((r) => r.logsources.length === 0).map((r) => r.document.title);
    outcomes.push({ file, folder: file.split('/')[0]!, errors, uncovered });
  }
  return outcomes;
}

describe('SigmaHQ rules compile through the shipped mapping', async () => {
  const outcomes = await compileEach();

  it('finds the SigmaHQ folders', () => {
    const folders = new Set(outcomes.map((o) => o.folder));
    for (const folder of ['linux', 'web', 'network', 'windows']) expect(folders, folder).toContain(folder);
  });

  it('compiles every rule but the listed ones, and the listed ones fail', () => {
    const failed = Object.fromEntries(outcomes.filter((o) => o.errors.length > 0).map((o) => [o.file, o.errors]));
    const unexpected = Object.fromEntries(Object.entries(failed).filter(([file]) => !(file in REFUSED)));
    expect(unexpected).toEqual({});
    // A listed rule that now compiles means the list (and the documented count) is stale.
    const listedButCompiled = Object.keys(REFUSED).filter((file) => outcomes.some((o) => o.file === file) && !(file in failed));
    expect(listedButCompiled).toEqual([]);
  });

  it('gives every rule a logsource the mapping covers, so none is tried on every event', () => {
    expect(Object.fromEntries(outcomes.filter((o) => o.uncovered.length > 0).map((o) => [o.file, o.uncovered]))).toEqual({});
  });

  it('refuses the deprecated aggregation with a message that says so', () => {
    for (const o of outcomes.filter((x) => REFUSED[x.file] === DEPRECATED_AGGREGATION)) {
      expect(o.errors.join('\n'), o.file).toMatch(/count|aggregat|聚合/i);
    }
  });

  it('refuses the catastrophic regex as a backtracking risk', () => {
    for (const o of outcomes.filter((x) => REFUSED[x.file] === CATASTROPHIC_REGEX)) {
      expect(o.errors.join('\n'), o.file).toMatch(/backtrack catastrophically/);
    }
  });

  it('refuses a condition naming an undefined identifier, and says which', () => {
    for (const o of outcomes.filter((x) => REFUSED[x.file] === UNDEFINED_IDENTIFIER)) {
      expect(o.errors.join('\n'), o.file).toMatch(/unknown search identifier "selection"/);
    }
  });

  it('prints the count per top folder', () => {
    const rows = new Map<string, { total: number; compiled: number }>();
    for (const o of outcomes) {
      const row = rows.get(o.folder) ?? { total: 0, compiled: 0 };
      row.total += 1;
      if (o.errors.length === 0) row.compiled += 1;
      rows.set(o.folder, row);
    }
    const lines = [...rows].sort(([a], [b]) => a.localeCompare(b)).map(([folder, r]) => `${folder}: compiled ${r.compiled} of ${r.total}`);
    const total = outcomes.length;
    const compiled = outcomes.filter((o) => o.errors.length === 0).length;
    console.info(`SigmaHQ rules (${ROOT}):\n  ${lines.join('\n  ')}\n  all: compiled ${compiled} of ${total} (${total - compiled} refused as listed)`);
    expect(compiled + Object.keys(REFUSED).filter((f) => outcomes.some((o) => o.file === f)).length).toBe(total);
  });
});
