import { connectionFields, ipAddress } from './network-fields.js';
import { ecsFields } from './ecs.js';
import type { EcsFields } from './types.js';

/**
 * ArcSight Common Event Format (Micro Focus "Implementing ArcSight CEF", revision 25):
 * `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`.
 * Header fields escape `|` and `\` with a backslash; the extension is `key=value` pairs separated by
 * spaces, where a value may hold spaces and escapes `=` and `\` (and writes line breaks as `\n`, `\r`).
 * Severity is 0–10 or Unknown, Low, Medium, High, Very-High. ECS fields as Filebeat's CEF decoder names
 * them (observer.*, event.code, event.severity, cef.extensions.*). A message that starts `CEF:` but
 * breaks these rules is a dead letter with the reason.
 */

export type Parsed = { ok: true; fields: EcsFields } | { ok: false; reason: string };

/** Splits `count` header fields on unescaped pipes; the rest (the extension) is the last item. */
export function splitHeader(text: string, count: number): string[] | undefined {
  const out: string[] = [];
  let current = '';
  let i = 0;
  for (; i < text.length && out.length < count; i += 1) {
    const c = text[i]!;
    if (c === '\\' && (text[i + 1] === '|' || text[i + 1] === '\\')) {
      current += text[i + 1];
      i += 1;
    } else if (c === '|') {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (out.length < count) return undefined;
  out.push(text.slice(i));
  return out;
}

const KEY = /^[A-Za-z0-9_.[\]-]{1,64}$/;

/** The extension's pairs: a key starts after a space and ends at the first unescaped `=`. */
export function parseCefExtension(text: string): Map<string, string> | string {
  const pairs = new Map<string, string>();
  // Positions of unescaped `=`, each with the key just before it.
  const starts: { key: string; keyAt: number; valueAt: number }[] = [];
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '\\') {
      i += 1;
      continue;
    }
    if (text[i] !== '=') continue;
    const before = text.lastIndexOf(' ', i - 1);
    const key = text.slice(before + 1, i);
    // An `=` inside a value that is not escaped (common in the wild): it belongs to the value before.
    if (!KEY.test(key)) continue;
    starts.push({ key, keyAt: before + 1, valueAt: i + 1 });
  }
  if (starts.length === 0) return text.trim() === '' ? pairs : 'CEF extension has no key=value pair';
  if (text.slice(0, starts[0]!.keyAt).trim() !== '') return `CEF extension starts with text that is no key=value pair: ${JSON.stringify(text.slice(0, 40))}`;
  for (let n = 0; n < starts.length; n += 1) {
    const { key, valueAt } = starts[n]!;
    const end = n + 1 < starts.length ? starts[n + 1]!.keyAt : text.length;
    const raw = text.slice(valueAt, end).replace(/ +$/, '');
    pairs.set(key, unescapeValue(raw));
  }
  return pairs;
}

function unescapeValue(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\([\\=nr|])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

const SEVERITY_WORDS: Record<string, number> = { unknown: 0, low: 3, medium: 5, high: 7, 'very-high': 9, 'very high': 9 };

/** CEF severity → 0–10, or undefined when it is neither a number in range nor one of the words. */
export function cefSeverity(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,2}$/.test(trimmed)) {
    const value = Number(trimmed);
    return value <= 10 ? value : undefined;
  }
  return SEVERITY_WORDS[trimmed.toLowerCase()];
}

/** A message that starts `CEF:` → its fields, or why it is not CEF. */
export function decodeCef(message: string): Parsed {
  const parts = splitHeader(message.slice(4), 7);
  if (!parts) return { ok: false, reason: 'CEF header has fewer than 7 |-separated fields' };
  const [version, vendor, product, deviceVersion, classId, name, severityText, extension] = parts as [string, string, string, string, string, string, string, string];
  if (!/^\d{1,2}$/.test(version.trim())) return { ok: false, reason: `CEF version is not a number: ${JSON.stringify(version.slice(0, 20))}` };
  const severity = cefSeverity(severityText);
  if (severity === undefined) return { ok: false, reason: `CEF severity is not 0-10 or Low/Medium/High/Very-High: ${JSON.stringify(severityText.slice(0, 20))}` };
  const ext = parseCefExtension(extension);
  if (typeof ext === 'string') return { ok: false, reason: ext };
  const get = (key: string) => ext.get(key);
  const labelled = (pattern: RegExp) => {
    for (let n = 1; n <= 6; n += 1) if (pattern.test(get(`cs${n}Label`) ?? '')) return get(`cs${n}`);
    return undefined;
  };
  const fields = connectionFields({
    dataset: 'cef',
    vendor, product, version: deviceVersion,
    sourceIp: get('src') ?? get('c6a2'),
    destinationIp: get('dst') ?? get('c6a3'),
    sourcePort: get('spt'),
    destinationPort: get('dpt'),
    transport: get('proto'),
    verdict: get('act') ?? get('outcome'),
    ruleName: labelled(/rule|policy/i) ?? get('cs1'),
    user: get('suser') ?? get('duser'),
    ...(get('deviceInboundInterface') ? { ingressInterface: get('deviceInboundInterface') } : {}),
    ...(get('deviceOutboundInterface') ? { egressInterface: get('deviceOutboundInterface') } : {}),
  });
  const event = fields.event as Record<string, unknown>;
  // A CEF event is an alert of its device when it carries a severity; its category is what the device says.
  event.code = classId.slice(0, 256);
  event.severity = severity;
  if (!verdictAllowsOrDenies(get('act') ?? get('outcome'))) event.type = ['info'];
  const extras = ecsFields({
    message: name,
    'source.domain': get('shost'),
    'destination.domain': get('dhost'),
    'destination.user.name': get('duser'),
    'url.original': get('request'),
    'http.request.method': get('requestMethod'),
    'observer.hostname': get('dvchost'),
    'observer.ip': ipAddress(get('dvc')),
    'cef.version': version,
    'cef.name': name,
    'cef.severity': severityText,
    'cef.extensions': Object.fromEntries([...ext].map(([k, v]) => [k.replace(/\./g, '_'), v])),
  });
  return { ok: true, fields: merge(fields, extras) };
}

function verdictAllowsOrDenies(word: string | undefined): boolean {
  return word !== undefined && /deny|denied|drop|reject|block|discard|accept|allow|permit|pass/i.test(word);
}

/** Shallow-deep merge of two field trees built just above (ours to change). */
export function merge(target: EcsFields, extra: EcsFields): EcsFields {
  for (const [key, value] of Object.entries(extra)) {
    const current = target[key];
    if (current && typeof current === 'object' && !Array.isArray(current) && value && typeof value === 'object' && !Array.isArray(value)) {
      merge(current as EcsFields, value as EcsFields);
    } else {
      target[key] = value;
    }
  }
  return target;
}
