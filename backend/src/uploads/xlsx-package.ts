/**
 * An XLSX is a ZIP of XML parts. Before anything is inflated its central directory is judged:
 * a valid ZIP, not encrypted, no part compressed like a ZIP bomb, a bounded total, and shared
 * strings (which the reader keeps in memory) within their own cap. The sizes checked here are
 * binding: the reader inflates each part to exactly its declared size and not a byte more.
 */
import { XMLParser } from 'fast-xml-parser';
import { ENCRYPTED_FLAG, InvalidZipError, readZipDirectory, type RangeReader, type ZipDirectory, type ZipEntry } from './zip-directory';

export interface XlsxLimits {
  maxXlsxUncompressedBytes: number;
  maxXlsxSharedStringsBytes: number;
}

export const XLSX_PARTS = {
  workbook: 'xl/workbook.xml',
  workbookRelationships: 'xl/_rels/workbook.xml.rels',
  styles: 'xl/styles.xml',
  sharedStrings: 'xl/sharedStrings.xml',
} as const;

/** Workbooks with images and charts have a few hundred parts; a ZIP bomb may have millions. */
const MAX_PARTS = 2_000;
const MAX_DIRECTORY_BYTES = 1024 * 1024;
/** XML compresses 5–20:1; a ZIP bomb reaches 1000:1. Small parts may compress well past this harmlessly. */
const MAX_COMPRESSION_RATIO = 200;
const RATIO_APPLIES_ABOVE = 1024 * 1024;
/** workbook.xml and its relationships are read whole to find the first sheet. */
const MAX_WORKBOOK_PART_BYTES = 4 * 1024 * 1024;

export class XlsxRefusedError extends Error {
  override name = 'XlsxRefusedError';
}

const megabytes = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;

function normalisedName(entry: ZipEntry): string {
  return entry.name.replace(/^\/+/, '');
}

export function findPart(directory: ZipDirectory, name: string): ZipEntry | undefined {
  return directory.entries.find((entry) => normalisedName(entry) === name);
}

/** Reads and judges the directory; throws XlsxRefusedError with a message for the operator. */
export async function readXlsxDirectory(read: RangeReader, fileSize: number, limits: XlsxLimits): Promise<ZipDirectory> {
  const head = await read(0, Math.min(fileSize, 8));
  if (head.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) {
    throw new XlsxRefusedError('This is an old .xls file or a password-protected workbook: save it as .xlsx without a password');
  }
  let directory: ZipDirectory;
  try {
    directory = await readZipDirectory(read, fileSize, { maxDirectoryBytes: MAX_DIRECTORY_BYTES });
  } catch (error) {
    if (error instanceof InvalidZipError) throw new XlsxRefusedError(`This is not a valid .xlsx file (${error.message})`);
    throw error;
  }
  judge(directory, limits);
  return directory;
}

function judge(directory: ZipDirectory, limits: XlsxLimits): void {
  const { entries } = directory;
  if (entries.length > MAX_PARTS) throw new XlsxRefusedError(`The .xlsx has ${entries.length} parts, more than ${MAX_PARTS}`);
  let total = 0;
  for (const entry of entries) {
    if (entry.flags & ENCRYPTED_FLAG) throw new XlsxRefusedError('The .xlsx is encrypted: save it without a password');
    if (entry.method !== 0 && entry.method !== 8) throw new XlsxRefusedError(`The .xlsx uses an unsupported compression (${entry.name})`);
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
    if (entry.uncompressedSize > RATIO_APPLIES_ABOVE && ratio > MAX_COMPRESSION_RATIO) {
      throw new XlsxRefusedError(`The .xlsx is refused as a ZIP bomb: ${entry.name} expands ${Math.round(ratio)} times`);
    }
    total += entry.uncompressedSize;
  }
  if (total > limits.maxXlsxUncompressedBytes) {
    throw new XlsxRefusedError(`The .xlsx unpacks to ${megabytes(total)}, more than ${megabytes(limits.maxXlsxUncompressedBytes)}: save it as CSV`);
  }
  const workbook = findPart(directory, XLSX_PARTS.workbook);
  const relationships = findPart(directory, XLSX_PARTS.workbookRelationships);
  if (!workbook || !relationships) throw new XlsxRefusedError('This .xlsx has no workbook (xl/workbook.xml): is it a spreadsheet?');
  if (workbook.uncompressedSize > MAX_WORKBOOK_PART_BYTES || relationships.uncompressedSize > MAX_WORKBOOK_PART_BYTES) {
    throw new XlsxRefusedError('The workbook index of this .xlsx is implausibly large');
  }
  const sharedStrings = findPart(directory, XLSX_PARTS.sharedStrings);
  if (sharedStrings && sharedStrings.uncompressedSize > limits.maxXlsxSharedStringsBytes) {
    throw new XlsxRefusedError(
      `The .xlsx holds ${megabytes(sharedStrings.uncompressedSize)} of text, more than ${megabytes(limits.maxXlsxSharedStringsBytes)}: save it as CSV`,
    );
  }
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, isArray: (name) => name === 'sheet' || name === 'Relationship' });

/** The first tab of the workbook, as the operator sees it; not necessarily sheet1.xml. */
export function firstSheetPath(workbookXml: string, relationshipsXml: string): string | undefined {
  const workbook = xml.parse(workbookXml) as { workbook?: { sheets?: { sheet?: Array<{ id?: string }> } } };
  const relationships = xml.parse(relationshipsXml) as { Relationships?: { Relationship?: Array<{ Id?: string; Target?: string }> } };
  const firstId = workbook.workbook?.sheets?.sheet?.[0]?.id;
  const target = relationships.Relationships?.Relationship?.find((relationship) => relationship.Id === firstId)?.Target;
  if (!target) return undefined;
  return target.startsWith('/') ? target.slice(1) : `xl/${target}`;
}
