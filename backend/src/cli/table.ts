/**
 * Rows as an aligned plain-text table for the terminal. Cells pass through maskPersonalData
 * first, so an IBAN or a name reaches the screen only masked, as in the logs.
 */
import { maskPersonalData } from '@tether/shared/mask';

const MAX_CELL = 60;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}

export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string[] {
  const cells = rows.map((row) => {
    const masked = maskPersonalData(row) as Record<string, unknown>;
    return columns.map((column) => cell(masked[column]));
  });
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => line[index]!.length)));
  const render = (line: readonly string[]) => line.map((text, index) => text.padEnd(widths[index]!)).join('  ').trimEnd();
  return [render(columns), render(widths.map((width) => '-'.repeat(width))), ...cells.map(render)];
}
