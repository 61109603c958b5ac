// A text cell starting with one of these is read as a formula by Excel, WPS and LibreOffice (OWASP "CSV Injection").
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 CSV cell. Text an office suite would run as a formula is neutralised the OWASP way:
 * a leading single quote, and the cell quoted so no separator can split the quote off. Numbers stay numbers.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  if (FORMULA_START.test(value)) return `"'${value.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
