/**
 * Which files an upload may be: CSV or XLSX, told by the file name, with the content types
 * browsers send for them (Windows reports CSV as application/vnd.ms-excel).
 */
import type { UploadLimits } from '../config';

export const UPLOAD_FORMATS = ['csv', 'xlsx'] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

const CONTENT_TYPES: Record<UploadFormat, readonly string[]> = {
  csv: ['text/csv', 'text/plain', 'application/csv', 'application/vnd.ms-excel', 'text/tab-separated-values'],
  xlsx: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
};

/** What the object is stored as when the browser sent nothing better. */
export const DEFAULT_CONTENT_TYPE: Record<UploadFormat, string> = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export function formatOf(fileName: string): UploadFormat | undefined {
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (extension === 'csv' || extension === 'txt' || extension === 'tsv') return 'csv';
  if (extension === 'xlsx') return 'xlsx';
  return undefined;
}

export function acceptsContentType(format: UploadFormat, contentType: string): boolean {
  const bare = contentType.split(';')[0]!.trim().toLowerCase();
  return bare === 'application/octet-stream' || CONTENT_TYPES[format].includes(bare);
}

export function maxBytesFor(format: UploadFormat, limits: UploadLimits): number {
  return format === 'csv' ? limits.maxCsvBytes : limits.maxXlsxBytes;
}
