/**
 * Which delimiter a CSV uses: comma, semicolon (German Excel) or tab. Each candidate parses the
 * start of the file; the one that splits the header into the most columns, with the data rows
 * agreeing on that count, wins. "Name;Betrag" with amounts like 12,50 shows why counting
 * characters is not enough: commas appear in every data row, but not in the header.
 */
import { parse } from 'csv-parse/sync';

export const DELIMITERS = [',', ';', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

const SAMPLE_ROWS = 50;

function columnCounts(sample: string, delimiter: Delimiter): number[] | undefined {
  try {
    const records = parse(sample, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      to_line: SAMPLE_ROWS,
    }) as string[][];
    return records.map((record) => record.length);
  } catch {
    return undefined;
  }
}

/** `sample` is the start of the file; its last line may be cut off and is ignored. */
export function detectDelimiter(sample: string): Delimiter {
  const lastBreak = sample.lastIndexOf('\n');
  const complete = lastBreak > 0 ? sample.slice(0, lastBreak) : sample;
  let best: { delimiter: Delimiter; columns: number; agreeing: number } = { delimiter: ',', columns: 1, agreeing: 0 };
  for (const delimiter of DELIMITERS) {
    const counts = columnCounts(complete, delimiter);
    const header = counts?.[0];
    if (counts === undefined || header === undefined || header < 2) continue;
    const agreeing = counts.filter((count) => count === header).length / counts.length;
    if (agreeing > best.agreeing || (agreeing === best.agreeing && header > best.columns)) {
      best = { delimiter, columns: header, agreeing };
    }
  }
  return best.delimiter;
}
