/**
 * The Node side of processing alone: a CSV streamed from storage, decoded, parsed and checked
 * row by row, without the database. Prints {rows, parseMs, rowsPerSecond, cpuSeconds, peakRssMb} as JSON.
 */
import { resolveColumns } from '@tether/shared/debtor-columns';
import { cellText } from '@tether/shared/debtor-row';
import { ObjectStorage } from '../../backend/src/storage/object-storage';
import { openCsvRows } from '../../backend/src/uploads/csv-rows';
import { RowChecker } from '../../backend/src/uploads/process-upload';
import { StoredFile } from '../../backend/src/uploads/stored-file';

const storage = new ObjectStorage({
  endpoint: process.env.S3_ENDPOINT,
  region: process.env.S3_REGION!,
  bucket: process.env.S3_BUCKET!,
  accessKeyId: process.env.S3_ACCESS_KEY_ID!,
  secretAccessKey: process.env.S3_SECRET_ACCESS_KEY!,
  forcePathStyle: true,
});
const started = performance.now();
const source = await openCsvRows(new StoredFile(storage, process.env.PARSE_KEY!, Number(process.env.PARSE_SIZE)), { encoding: 'utf-8', delimiter: ';' });
let checker: RowChecker | undefined;
let rows = 0;
let valid = 0;
for await (const { row, cells } of source.rows) {
  if (!checker) {
    const columns = resolveColumns(cells.map(cellText));
    if (!columns.ok) throw new Error(columns.message);
    checker = new RowChecker(cells, columns.columns, { today: new Date() });
    continue;
  }
  rows += 1;
  if (checker.check(row, cells).debtor) valid += 1;
}
const parseMs = Math.round(performance.now() - started);
storage.close();
const usage = process.resourceUsage();
const cpuSeconds = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1e5) / 10;
process.stdout.write(JSON.stringify({ rows, valid, parseMs, rowsPerSecond: Math.round(rows / (parseMs / 1000)), cpuSeconds, peakRssMb: Math.round(usage.maxRSS / 1024) }));
