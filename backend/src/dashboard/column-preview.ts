/**
 * The header row of a CSV from the first bytes of the file, read in the browser before the
 * upload: the encoding and delimiter judged as the upload's own check judges them, and for each
 * field the column Tether recognises by name. What the operator then maps is sent with the upload.
 */
import { recognisedField, DEBTOR_FIELDS, type DebtorField } from '@tether/shared/debtor-columns';
import { parse } from 'csv-parse/sync';
import { detectDelimiter, type Delimiter } from '../uploads/csv-dialect';
import { NotTextError, TextInspector, type TextEncoding } from '../uploads/text-inspection';

/** The browser sends at most this much of the file. */
export const PREVIEW_BYTES = 64 * 1024;

export type ColumnPreview =
  | { ok: true; headers: string[]; suggested: Partial<Record<DebtorField, string>>; encoding: TextEncoding; delimiter: Delimiter }
  | { ok: false; problem: string };

/** Whole lines only: a multi-byte character cut at the end of the sample would look like Windows-1252. */
function wholeLines(head: Buffer): Buffer {
  const lastLineFeed = head.lastIndexOf(0x0a);
  return lastLineFeed > 0 ? head.subarray(0, lastLineFeed + 1) : head;
}

export function previewCsvColumns(head: Buffer): ColumnPreview {
  const inspector = new TextInspector();
  let decoded: { encoding: TextEncoding; sample: string };
  try {
    inspector.feed(wholeLines(head));
    decoded = inspector.finish();
  } catch (error) {
    if (error instanceof NotTextError) return { ok: false, problem: error.message };
    throw error;
  }
  const delimiter = detectDelimiter(decoded.sample);
  const [headers] = parse(decoded.sample, { delimiter, bom: true, relax_quotes: true, relax_column_count: true, to_line: 1 }) as string[][];
  if (!headers || headers.every((header) => header.trim() === '')) return { ok: false, problem: 'The file has no header row' };
  return { ok: true, headers, suggested: suggestedMapping(headers), encoding: decoded.encoding, delimiter };
}

/** For each field, the first header Tether recognises as it: what the mapping preselects. */
export function suggestedMapping(headers: readonly string[]): Partial<Record<DebtorField, string>> {
  const suggested: Partial<Record<DebtorField, string>> = {};
  for (const header of headers) {
    const field = recognisedField(header);
    if (field && DEBTOR_FIELDS.includes(field) && suggested[field] === undefined) suggested[field] = header;
  }
  return suggested;
}
