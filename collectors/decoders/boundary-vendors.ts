import { connectionFields } from './network-fields.js';
import { parsePairs } from './kv-firewall.js';
import { ecsFields } from './ecs.js';
import type { EcsFields } from './types.js';

/**
 * The syslog of boundary products Chinese departments run, where a public reference gives the format.
 *
 * Huawei (USG/HiSecEngine, VRP information center) and H3C (SecPath, Comware) share the information
 * center's layout `%%<vv><MODULE>/<severity>/<DIGEST>(<type>): <content>`:
 *  - H3C SecPath F1000-E user manual, "System information format" (vendor id `%%`, `vv` = 10, module,
 *    level, digest), https://azmanual.top/manuals/795518/h3c-technologies-h3c-secpath-f1000-e.html?page=72
 *  - Huawei: "TimeStamp Hostname %%dd ModuleName/Severity/Brief(l): Description",
 *    https://devodocs.atlassian.net/wiki/spaces/latest/pages (firewall.huawei), and the USG policy
 *    matching log `POLICY/6/POLICYPERMIT|POLICYDENY` with `vsys=, protocol=, source-ip=, source-port=,
 *    destination-ip=, destination-port=, time=, source-zone=, destination-zone=, rule-name=` as
 *    ExabeamLabs/Content-Doc parses it (DataSources/Huawei/Enterprise_Network_Firewall/Parsers/
 *    parserContent_huawei-firewall.md); `policy logging` in the USG CLI reference,
 *    https://usg.zrnko.cz/resources/cli/policy_logging_secpolicy.html.
 * H3C content is decoded as far as the cited header goes (module, severity, digest); its body stays
 * the message (no public reference of its field list was found).
 *
 * Sangfor NGAF `fwlog: 日志类型:…, 用户:…, 源IP:…, 源端口:…, 目的IP:…, 目的端口:…, 应用类型:…,
 * 应用名称:…, 系统动作:…`: a public sample (github.com/taoyiqun/hdu-C, "Lisp表达式/ass.cpp") and
 * Devo's relay rule for it (`fwlog: Log type: …`, https://devodocs.atlassian.net/wiki/spaces/latest/
 * pages/669253659/firewall.sangfor).
 */

const INFO_CENTER = /^%%(\d{2})([A-Za-z0-9_-]{1,32})\/(\d)\/([A-Za-z0-9_-]{1,64})(?:\((\w)\))?:\s?(.*)$/s;

/** A Huawei or H3C information-center message, or undefined. */
export function decodeInfoCenter(text: string): EcsFields | undefined {
  const match = INFO_CENTER.exec(text);
  if (!match) return undefined;
  const [, vv, module, level, digest, , content] = match as unknown as [string, string, string, string, string, string, string];
  const h3c = vv === '10';
  const dataset = h3c ? 'h3c.secpath' : 'huawei.usg';
  const header = {
    'event.code': `${module}/${level}/${digest}`,
    'log.syslog.severity.code': Number(level),
    [`${h3c ? 'h3c' : 'huawei'}.module`]: module,
    [`${h3c ? 'h3c' : 'huawei'}.digest`]: digest,
    message: content,
  };
  if (!h3c && module === 'POLICY' && /^POLICY(PERMIT|DENY)$/.test(digest)) {
    const pairs = parsePairs(content.replace(/\.\s*$/, ''));
    const fields = connectionFields({
      dataset, vendor: 'Huawei', product: 'USG',
      sourceIp: pairs.get('source-ip'),
      destinationIp: pairs.get('destination-ip'),
      sourcePort: pairs.get('source-port'),
      destinationPort: pairs.get('destination-port'),
      transport: pairs.get('protocol'),
      verdict: digest === 'POLICYPERMIT' ? 'permit' : 'deny',
      ruleName: pairs.get('rule-name'),
      sourceZone: pairs.get('source-zone'),
      destinationZone: pairs.get('destination-zone'),
    });
    return { ...fields, ...ecsFields({ ...header, 'huawei.vsys': pairs.get('vsys') }), event: { ...(fields.event as object), code: header['event.code'] } };
  }
  return ecsFields({
    ...header,
    'event.kind': 'event',
    'event.dataset': dataset,
    'event.module': dataset.split('.')[0],
    'event.action': digest.toLowerCase(),
    'observer.vendor': h3c ? 'H3C' : 'Huawei',
    'observer.product': h3c ? 'SecPath' : 'USG',
    'observer.type': 'firewall',
  });
}

const SANGFOR_KEYS: Record<string, string> = {
  日志类型: 'type', 用户: 'user', 源IP: 'src', 源端口: 'sport', 目的IP: 'dst', 目的端口: 'dport',
  应用类型: 'app_type', 应用名称: 'app', 系统动作: 'action', 协议: 'proto',
};

/** A Sangfor `fwlog:` message (program `fwlog`), or undefined. */
export function decodeSangfor(message: string): EcsFields | undefined {
  const values: Record<string, string> = {};
  for (const item of message.split(/[,，\n]\s*/)) {
    const at = item.search(/[:：]/);
    if (at <= 0) continue;
    const key = SANGFOR_KEYS[item.slice(0, at).trim()];
    if (key) values[key] = item.slice(at + 1).trim();
  }
  if (values.type === undefined || (values.src === undefined && values.dst === undefined)) return undefined;
  const user = values.user && values.user !== '(null)' ? values.user : undefined;
  const fields = connectionFields({
    dataset: 'sangfor.fw', vendor: 'Sangfor', product: 'NGAF',
    sourceIp: values.src, destinationIp: values.dst, sourcePort: values.sport, destinationPort: values.dport,
    transport: values.proto, verdict: values.action, ...(user ? { user } : {}),
  });
  return { ...fields, ...ecsFields({ 'sangfor.log_type': values.type, 'sangfor.action': values.action, 'network.application': values.app }) , network: { ...(fields.network as object ?? {}), ...(values.app ? { application: values.app } : {}) } };
}
