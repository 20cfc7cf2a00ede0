/**
 * CSV that operators open in a spreadsheet: every cell quoted (RFC 4180), and every cell a
 * spreadsheet would read as a formula neutralised (OWASP CSV injection), because the values come
 * from untrusted files and from EMP. Used by the uploads' error reports and the finance exports.
 */

const FORMULA_START = /^[=+\-@\t\r\0]/;

/** Put first in a file, so Excel reads it as UTF-8 and shows names with umlauts correctly. */
export const UTF8_BOM = '\ufeff';

/** A leading apostrophe makes a spreadsheet show the cell as text instead of evaluating it. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function csvLine(cells: readonly string[], delimiter = ','): string {
  return `${cells.map((cell) => `"${neutraliseCell(cell).replace(/"/g, '""')}"`).join(delimiter)}\r\n`;
}
