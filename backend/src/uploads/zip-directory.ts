/**
 * The central directory of a ZIP file (APPNOTE.TXT §4.3.12–16), read from its end through ranged
 * reads, so an XLSX can be judged (entry sizes, ratios) before a byte of it is inflated, and its
 * parts read in any order afterwards.
 */

/** Bytes [start, end) of the file. */
export type RangeReader = (start: number, end: number) => Promise<Buffer>;

export interface ZipEntry {
  name: string;
  flags: number;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

export class InvalidZipError extends Error {
  override name = 'InvalidZipError';
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const END_RECORD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA = 0x0001;

export const ENCRYPTED_FLAG = 0x1;

function readUint64(buffer: Buffer, offset: number): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidZipError('a ZIP64 size is out of range');
  return Number(value);
}

function findEndRecord(tail: Buffer): number {
  // The record is 22 bytes plus a comment of up to 64 KiB; its comment length must reach the end exactly.
  for (let at = tail.length - END_RECORD_SIZE; at >= 0; at--) {
    if (tail.readUInt32LE(at) === END_OF_DIRECTORY && at + END_RECORD_SIZE + tail.readUInt16LE(at + 20) === tail.length) {
      return at;
    }
  }
  throw new InvalidZipError('no ZIP end-of-directory record: not a ZIP file, or truncated');
}

interface DirectoryLocation {
  entryCount: number;
  offset: number;
  size: number;
}

async function locateDirectory(read: RangeReader, fileSize: number): Promise<DirectoryLocation> {
  if (fileSize < END_RECORD_SIZE) throw new InvalidZipError('too short to be a ZIP file');
  const tailStart = Math.max(0, fileSize - END_RECORD_SIZE - MAX_COMMENT);
  const tail = await read(tailStart, fileSize);
  const at = findEndRecord(tail);
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) throw new InvalidZipError('multi-volume ZIP files are not supported');
  const location = { entryCount: tail.readUInt16LE(at + 10), size: tail.readUInt32LE(at + 12), offset: tail.readUInt32LE(at + 16) };
  const isZip64 = location.entryCount === 0xffff || location.size === 0xffffffff || location.offset === 0xffffffff;
  if (!isZip64) return location;

  const locatorStart = tailStart + at - 20;
  if (locatorStart < 0) throw new InvalidZipError('ZIP64 locator missing');
  const locator = await read(locatorStart, locatorStart + 20);
  if (locator.readUInt32LE(0) !== ZIP64_LOCATOR) throw new InvalidZipError('ZIP64 locator missing');
  const recordStart = readUint64(locator, 8);
  if (recordStart + 56 > locatorStart) throw new InvalidZipError('ZIP64 end record out of range');
  const record = await read(recordStart, recordStart + 56);
  if (record.readUInt32LE(0) !== ZIP64_END_OF_DIRECTORY) throw new InvalidZipError('ZIP64 end record missing');
  return { entryCount: readUint64(record, 32), size: readUint64(record, 40), offset: readUint64(record, 48) };
}

/** Sizes and offset the 32-bit fields mark as 0xFFFFFFFF live in the ZIP64 extra field, in this order. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (id === ZIP64_EXTRA) {
      let field = at + 4;
      for (const key of ['uncompressedSize', 'compressedSize', 'localHeaderOffset'] as const) {
        if (entry[key] !== 0xffffffff) continue;
        if (field + 8 > at + 4 + size) throw new InvalidZipError(`ZIP64 field of ${entry.name} is truncated`);
        entry[key] = readUint64(extra, field);
        field += 8;
      }
      return;
    }
    at += 4 + size;
  }
}

export interface ZipDirectory {
  entries: ZipEntry[];
  /** Where the central directory starts: the end of the last entry's data. */
  directoryOffset: number;
}

/**
 * Reads the directory without trusting it: offsets must stay inside the file and the directory
 * no larger than `maxDirectoryBytes`, so a crafted header cannot make us read without end.
 */
export async function readZipDirectory(
  read: RangeReader,
  fileSize: number,
  options: { maxDirectoryBytes: number },
): Promise<ZipDirectory> {
  const location = await locateDirectory(read, fileSize);
  if (location.offset + location.size > fileSize) throw new InvalidZipError('the central directory points past the end of the file');
  if (location.size > options.maxDirectoryBytes) throw new InvalidZipError(`the ZIP directory is larger than ${options.maxDirectoryBytes} bytes`);
  const directory = await read(location.offset, location.offset + location.size);

  const entries: ZipEntry[] = [];
  let at = 0;
  for (let index = 0; index < location.entryCount; index++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== DIRECTORY_ENTRY) throw new InvalidZipError('the central directory is corrupt');
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > directory.length) throw new InvalidZipError('the central directory is corrupt');
    const entry: ZipEntry = {
      name: directory.toString('utf8', at + 46, at + 46 + nameLength),
      flags: directory.readUInt16LE(at + 8),
      method: directory.readUInt16LE(at + 10),
      crc32: directory.readUInt32LE(at + 16),
      compressedSize: directory.readUInt32LE(at + 20),
      uncompressedSize: directory.readUInt32LE(at + 24),
      localHeaderOffset: directory.readUInt32LE(at + 42),
    };
    applyZip64Extra(entry, directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength));
    if (entry.localHeaderOffset + entry.compressedSize > location.offset) throw new InvalidZipError(`${entry.name} points past the entries`);
    entries.push(entry);
    at = end;
  }
  return { entries, directoryOffset: location.offset };
}

/** Where an entry's compressed bytes are: after its local header, whose name and extra field may differ from the directory's. */
export async function entryDataRange(read: RangeReader, entry: ZipEntry): Promise<{ start: number; end: number }> {
  const header = await read(entry.localHeaderOffset, entry.localHeaderOffset + 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_HEADER) throw new InvalidZipError(`${entry.name} has no local header`);
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  return { start, end: start + entry.compressedSize };
}

/** A local header for an entry stored uncompressed with known size, as a streaming unzipper reads it. */
export function storedEntryHeader(name: string, size: number, crc32: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  header.writeUInt16LE(20, 4); // version needed: 2.0
  header.writeUInt16LE(0x800, 6); // names are UTF-8
  header.writeUInt16LE(0, 8); // stored
  header.writeUInt32LE(crc32, 14);
  header.writeUInt32LE(size, 18);
  header.writeUInt32LE(size, 22);
  header.writeUInt16LE(nameBytes.length, 26);
  return Buffer.concat([header, nameBytes]);
}
