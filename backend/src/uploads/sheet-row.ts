import type { CellValue } from '@tether/shared/debtor-row';

/** One row of a CSV or of a workbook's first sheet, numbered as a spreadsheet shows it (from 1). */
export interface SheetRow {
  row: number;
  cells: CellValue[];
}

/** The rows of an uploaded file, streamed; the first non-empty row is the header. */
export interface RowSource {
  rows: AsyncIterable<SheetRow>;
  /** Bytes fetched from storage so far: the basis of the progress shown while processing. */
  bytesRead(): number;
}

export function isEmptyRow(cells: readonly CellValue[]): boolean {
  return cells.every((cell) => cell === null || cell === undefined || (typeof cell === 'string' && cell.trim() === ''));
}
