import { merge, splitHeader, type Parsed } from './cef.js';
import { connectionFields } from './network-fields.js';
import { ecsFields } from './ecs.js';

/**
 * IBM QRadar Log Event Extended Format (IBM Documentation, "LEEF event components"):
 * LEEF 1.0 `LEEF:1.0|Vendor|Product|Version|EventID|attributes`, attributes separated by a tab;
 * LEEF 2.0 `LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|attributes`, where the delimiter
 * is one character or its hex code (`x09`, `0x09`, `^`), and a tab when the field is empty.
 * Attributes are `key=value`; predefined keys: src, dst, srcPort, dstPort, proto, usrName, sev (1–10),
 * cat, devTime with devTimeFormat. A message that starts `LEEF:` but breaks these rules is a dead letter.
 */

function delimiterOf(field: string): string | undefined {
  if (field === '') return '\t';
  if (field.length === 1) return field;
  const hex = /^(?:0?x)([0-9a-fA-F]{2,4})$/.exec(field);
  return hex ? String.fromCharCode(parseInt(hex[1]!, 16)) : undefined;
}

export function decodeLeef(message: string): Parsed {
  const version = /^LEEF:(\d+(?:\.\d+)?)\|/.exec(message)?.[1];
  if (version !== '1.0' && version !== '2.0' && version !== '1' && version !== '2') {
    return { ok: false, reason: `LEEF version is not 1.0 or 2.0: ${JSON.stringify(message.slice(5, 15))}` };
  }
  const v2 = version.startsWith('2');
  const parts = splitHeader(message.slice(5 + version.length + 1), v2 ? 5 : 4);
  if (!parts) return { ok: false, reason: `LEEF ${v2 ? '2.0' : '1.0'} header has fewer than ${v2 ? 6 : 5} |-separated fields` };
  const [vendor, product, productVersion, eventId] = parts as [string, string, string, string];
  const delimiter = v2 ? delimiterOf(parts[4]!) : '\t';
  if (delimiter === undefined) return { ok: false, reason: `LEEF 2.0 delimiter is neither one character nor a hex code: ${JSON.stringify(parts[4]!.slice(0, 10))}` };
  const body = parts[v2 ? 5 : 4]!;
  const attributes = new Map<string, string>();
  for (const item of body.split(delimiter)) {
    if (item.trim() === '') continue;
    const at = item.indexOf('=');
    if (at <= 0) return { ok: false, reason: `LEEF attribute is not key=value: ${JSON.stringify(item.slice(0, 40))}` };
    attributes.set(item.slice(0, at).trim(), item.slice(at + 1));
  }
  const get = (key: string) => attributes.get(key);
  const fields = connectionFields({
    dataset: 'leef',
    vendor, product, version: productVersion,
    sourceIp: get('src'),
    destinationIp: get('dst'),
    sourcePort: get('srcPort'),
    destinationPort: get('dstPort'),
    transport: get('proto'),
    verdict: get('action') ?? get('act'),
    ruleName: get('policy') ?? get('rule') ?? get('ruleName'),
    user: get('usrName'),
  });
  const event = fields.event as Record<string, unknown>;
  event.code = eventId.slice(0, 256);
  const severity = Number(get('sev'));
  if (Number.isInteger(severity) && severity >= 0 && severity <= 10) event.severity = severity;
  if (!(event.type as string[]).some((t) => t === 'allowed' || t === 'denied')) event.type = ['info'];
  return {
    ok: true,
    fields: merge(fields, ecsFields({
      'leef.version': v2 ? '2.0' : '1.0',
      'leef.event_id': eventId,
      'leef.category': get('cat'),
      'leef.attributes': Object.fromEntries([...attributes].map(([k, v]) => [k.replace(/\./g, '_'), v])),
    })),
  };
}
