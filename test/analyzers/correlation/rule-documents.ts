import { LineCounter, isMap, isScalar, parseAllDocuments, type Document, type Node } from 'yaml';
import type { RuleLevel } from '../../../core/index.js';
import type { RuleDocument, Signal } from '../../../analyzers/types.js';

/** RuleDocuments from multi-document YAML, with line lookups: enough for the correlation tests. */
export function ruleDocuments(text: string, file = 'test.yml'): RuleDocument[] {
  const lines = new LineCounter();
  return parseAllDocuments(text, { lineCounter: lines }).map((doc: Document, index) => {
    const body = doc.toJS() as Record<string, unknown>;
    const line = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
    const docLine = line(doc.contents as Node);
    return {
      kind: body.correlation ? 'correlation' : body.filter ? 'filter' : 'detection',
      id: typeof body.id === 'string' ? body.id : `${file}#${index}`,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      title: String(body.title ?? ''),
      level: (body.level as RuleLevel | undefined) ?? 'medium',
      tags: (body.tags as string[] | undefined) ?? [],
      falsepositives: [],
      body,
      position: { file, line: docLine },
      lineOf(path: string): number {
        let node: unknown = doc.contents;
        let found = docLine;
        for (const part of path.split('.')) {
          if (!isMap(node)) break;
          const pair = node.items.find((item) => isScalar(item.key) && item.key.value === part);
          if (!pair) break;
          found = line(pair.key as Node);
          node = pair.value;
        }
        return found;
      },
    };
  });
}

let sequence = 0;
/** A signal of rule `rule` (id, and name when given) at minute `minute` past a fixed hour. */
export function signal(rule: string, minute: number, fields: Record<string, unknown> = {}, name?: string): Signal {
  sequence += 1;
  return {
    rule: { id: rule, ...(name ? { name } : {}), title: rule, level: 'medium', tags: [] },
    eventId: `e${sequence}`,
    time: T0 + minute * 60_000,
    event: fields,
  };
}

export const T0 = Date.parse('2026-03-02T08:00:00Z');
export const minutes = (ms: number) => (ms - T0) / 60_000;
