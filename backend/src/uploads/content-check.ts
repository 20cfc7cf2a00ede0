/**
 * What `complete` checks before an upload is queued: the object is there, within its size cap,
 * and is what it claims to be — a CSV made of text, or an XLSX whose ZIP directory is sound and
 * does not explode. One pass over the object also yields its SHA-256 and, for CSV, the encoding
 * and delimiter (unless the operator chose them).
 */
import { createHash } from 'node:crypto';
import type { ObjectStorage } from '../storage/object-storage';
import { detectDelimiter, type Delimiter } from './csv-dialect';
import { maxBytesFor, type UploadFormat } from './file-types';
import { StoredFile } from './stored-file';
import { NotTextError, TextInspector, type TextEncoding } from './text-inspection';
import { readXlsxDirectory, XlsxRefusedError, type XlsxLimits } from './xlsx-package';
import type { UploadLimits } from '../config';

/** The file is not acceptable; the message says why, for the operator. */
export class ContentRefusedError extends Error {
  override name = 'ContentRefusedError';
}

export interface InspectedContent {
  sizeBytes: number;
  checksumSha256: string;
  /** CSV only. */
  encoding?: TextEncoding;
  delimiter?: Delimiter;
}

export interface ContentToInspect {
  fileKey: string;
  format: UploadFormat;
  encoding?: TextEncoding;
  delimiter?: Delimiter;
}

export async function inspectContent(storage: ObjectStorage, upload: ContentToInspect, limits: UploadLimits & XlsxLimits): Promise<InspectedContent> {
  const head = await storage.headObject(upload.fileKey);
  if (!head) throw new ContentRefusedError('No file was uploaded for this upload yet');
  if (head.size === 0) throw new ContentRefusedError('The file is empty');
  const maxBytes = maxBytesFor(upload.format, limits);
  if (head.size > maxBytes) throw new ContentRefusedError(`The file has ${head.size} bytes, more than the ${maxBytes} allowed for ${upload.format.toUpperCase()}`);

  const file = new StoredFile(storage, upload.fileKey, head.size);
  try {
    // The directory is judged from the end of the file before anything is inflated.
    if (upload.format === 'xlsx') await readXlsxDirectory(file.read, file.size, limits);

    const hash = createHash('sha256');
    const text = upload.format === 'csv' ? new TextInspector() : undefined;
    let sizeBytes = 0;
    for await (const chunk of await file.stream()) {
      sizeBytes += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
      text?.feed(chunk as Buffer);
    }
    const checksumSha256 = hash.digest('hex');
    if (!text) return { sizeBytes, checksumSha256 };

    const { encoding, sample } = text.finish();
    return {
      sizeBytes,
      checksumSha256,
      encoding: upload.encoding ?? encoding,
      delimiter: upload.delimiter ?? detectDelimiter(sample),
    };
  } catch (error) {
    if (error instanceof NotTextError || error instanceof XlsxRefusedError) throw new ContentRefusedError(error.message);
    throw error;
  }
}
