import yazl from 'yazl';
import type { ControlRow } from './controls.js';
import { csvCell } from './csv-cell.js';
import { STATUS_EN, STATUS_LABEL } from './status-rules.js';

/** The columns of the controls table, zh-CN with English, in CSV and XLSX alike. */
export const CONTROL_COLUMNS: { header: string; value: (row: ControlRow) => string | number }[] = [
  { header: '系统 System', value: (r) => `${r.systemName} (${r.system})` },
  { header: '部门 Department', value: (r) => r.department },
  { header: '等级 Level', value: (r) => r.mlpsLevel },
  { header: '条款 Clause', value: (r) => r.clause },
  { header: '测评单元 / Test unit', value: (r) => r.testUnit },
  { header: '控制点 Control', value: (r) => r.control },
  { header: '要求 Requirement', value: (r) => r.requirement },
  { header: '状态 Status', value: (r) => STATUS_LABEL[r.status] },
  { header: '证据摘要 Evidence summary', value: (r) => r.summary },
  { header: '判定规则 Rule', value: (r) => r.rule },
  // The English of the Chinese columns above (the Chinese text is the standard's; the English is ours).
  { header: '控制点（英文）Control (English)', value: (r) => r.controlEn },
  { header: '要求（英文）Requirement (English)', value: (r) => r.requirementEn },
  { header: '状态（英文）Status (English)', value: (r) => STATUS_EN[r.status] },
];

/** RFC 4180 CSV, UTF-8 with a BOM so Excel reads the Chinese text correctly; formula-like cells neutralised (csvCell). */
export function controlsCsv(rows: readonly ControlRow[]): Buffer {
  const lines = [CONTROL_COLUMNS.map((c) => csvCell(c.header)).join(',')];
  for (const row of rows) lines.push(CONTROL_COLUMNS.map((c) => csvCell(c.value(row))).join(','));
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8')]);
}

// XML 1.0 forbids most control characters even escaped; they are dropped.
const xmlText = (text: string) =>
  text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function columnName(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/**
 * A minimal valid XLSX (Office Open XML): one sheet, inline strings, a bold header style. Written
 * by hand with yazl so no spreadsheet library is needed.
 */
export function controlsXlsx(rows: readonly ControlRow[]): Promise<Buffer> {
  const cell = (ref: string, value: string | number, style = 0) =>
    typeof value === 'number'
      ? `<c r="${ref}"${style ? ` s="${style}"` : ''}><v>${value}</v></c>`
      : `<c r="${ref}" t="inlineStr"${style ? ` s="${style}"` : ''}><is><t xml:space="preserve">${xmlText(value)}</t></is></c>`;
  const sheetRows = [
    `<row r="1">${CONTROL_COLUMNS.map((c, i) => cell(`${columnName(i)}1`, c.header, 1)).join('')}</row>`,
    ...rows.map((row, r) => `<row r="${r + 2}">${CONTROL_COLUMNS.map((c, i) => cell(`${columnName(i)}${r + 2}`, c.value(row))).join('')}</row>`),
  ];
  const widths = [28, 18, 8, 12, 14, 14, 48, 10, 60, 48, 24, 48, 24];
  const files: Record<string, string> = {
    '[Content_Types].xml': `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`
      + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      + '<Default Extension="xml" ContentType="application/xml"/>'
      + '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      + '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
      + '</Types>',
    '_rels/.rels': `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
      + '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
      + '</Relationships>',
    'xl/workbook.xml': `${XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`
      + '<sheets><sheet name="控制项 Controls" sheetId="1" r:id="rId1"/></sheets></workbook>',
    'xl/_rels/workbook.xml.rels': `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
      + '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
      + '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
      + '</Relationships>',
    'xl/styles.xml': `${XML}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
      + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
      + '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
      + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
      + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
      + '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
      + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
      + '</styleSheet>',
    'xl/worksheets/sheet1.xml': `${XML}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
      + '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
      + `<cols>${widths.map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`).join('')}</cols>`
      + `<sheetData>${sheetRows.join('')}</sheetData></worksheet>`,
  };
  return zipToBuffer(Object.entries(files).map(([name, text]) => [name, Buffer.from(text, 'utf8')]));
}

/** Fixed entry times, so the same content gives the same bytes. */
export const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

export function zipToBuffer(entries: readonly (readonly [string, Buffer])[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(data, name, { mtime: ZIP_MTIME });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
