/**
 * Hand-made ZIP files for the XLSX checks: a ZIP bomb (50 MB of zeros in about 50 KB), a
 * directory that lies about a part's size, ZIP64 records, parts with any name. Built from Node's
 * raw deflate and a directory written here, byte by byte as APPNOTE.TXT describes it.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipPart {
  name: string;
  data: Buffer;
  uncompressedSize: number;
  crc: number;
  method: number;
}

export function storedPart(name: string, text: string): ZipPart {
  const data = Buffer.from(text);
  return { name, data, uncompressedSize: data.length, crc: crc32(data), method: 0 };
}

export function deflatedPart(name: string, content: Buffer, declaredSize = content.length): ZipPart {
  return { name, data: deflateRawSync(content, { level: 9 }), uncompressedSize: declaredSize, crc: crc32(content), method: 8 };
}

function zip64Extra(part: ZipPart, offset: number): Buffer {
  const extra = Buffer.alloc(28);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(24, 2);
  extra.writeBigUInt64LE(BigInt(part.uncompressedSize), 4);
  extra.writeBigUInt64LE(BigInt(part.data.length), 12);
  extra.writeBigUInt64LE(BigInt(offset), 20);
  return extra;
}

/** With `zip64`, the directory keeps sizes, offsets and counts only in the ZIP64 records. */
export function zipOf(parts: ZipPart[], options: { zip64?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(part.method, 8);
    local.writeUInt32LE(part.crc, 14);
    local.writeUInt32LE(part.data.length, 18);
    local.writeUInt32LE(part.uncompressedSize, 22);
    local.writeUInt16LE(name.length, 26);
    const extra = options.zip64 ? zip64Extra(part, offset) : Buffer.alloc(0);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(45, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(part.method, 10);
    central.writeUInt32LE(part.crc, 16);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : part.data.length, 20);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : part.uncompressedSize, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : offset, 42);
    locals.push(local, name, part.data);
    directory.push(central, name, extra);
    offset += 30 + name.length + part.data.length;
  }
  const directoryBytes = Buffer.concat(directory);
  const records: Buffer[] = [];
  if (options.zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(parts.length), 24);
    record.writeBigUInt64LE(BigInt(parts.length), 32);
    record.writeBigUInt64LE(BigInt(directoryBytes.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + directoryBytes.length), 8);
    locator.writeUInt32LE(1, 16);
    records.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64 ? 0xffff : parts.length, 8);
  end.writeUInt16LE(options.zip64 ? 0xffff : parts.length, 10);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : directoryBytes.length, 12);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...locals, directoryBytes, ...records, end]);
}

/** A workbook whose first tab is the part `sheetPath` (relative to xl/). */
export function workbookParts(sheetPath = 'worksheets/sheet1.xml'): ZipPart[] {
  return [
    storedPart('[Content_Types].xml', '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
    storedPart(
      'xl/workbook.xml',
      '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Debtors" sheetId="1" r:id="rId7"/></sheets></workbook>',
    ),
    storedPart('xl/_rels/workbook.xml.rels', `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="${sheetPath}"/></Relationships>`),
  ];
}

/** A sheet of inline strings, as some generators write them (no sharedStrings.xml). */
export function inlineSheet(rows: string[][]): string {
  const cells = (row: string[], index: number) =>
    row.map((value, column) => `<c r="${String.fromCharCode(65 + column)}${index + 1}" t="inlineStr"><is><t>${value}</t></is></c>`).join('');
  return `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows.map((row, index) => `<row r="${index + 1}">${cells(row, index)}</row>`).join('')}</sheetData></worksheet>`;
}

/** `declaredSize` lets the directory lie about how large the sheet is. */
export function zipBomb(options: { inflatedBytes?: number; declaredSize?: number } = {}): Buffer {
  const zeros = Buffer.alloc(options.inflatedBytes ?? 50 * 1024 * 1024);
  return zipOf([...workbookParts(), deflatedPart('xl/worksheets/sheet1.xml', zeros, options.declaredSize)]);
}
