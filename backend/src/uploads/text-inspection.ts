/**
 * Is a CSV upload text, and in which encoding (sepa-domain.md §8)? A byte-order mark decides;
 * otherwise the whole file must be valid UTF-8 to be read as UTF-8, and anything else is taken as
 * Windows-1252, what German Excel writes. Control characters mean a binary file posing as CSV.
 * Fed chunk by chunk as the file streams past, once, when the upload is completed.
 */
import iconv from 'iconv-lite';

export const TEXT_ENCODINGS = ['utf-8', 'windows-1252', 'utf-16le', 'utf-16be'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];

/** Enough of the start of the file to see the header row and a few data rows. */
const SAMPLE_BYTES = 64 * 1024;

/** C0 controls other than tab, line feed and carriage return, and DEL. */
const CONTROL_CHARACTER = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/;

const BYTE_ORDER_MARKS: ReadonlyArray<[TextEncoding, Buffer]> = [
  ['utf-8', Buffer.from([0xef, 0xbb, 0xbf])],
  ['utf-16le', Buffer.from([0xff, 0xfe])],
  ['utf-16be', Buffer.from([0xfe, 0xff])],
];

export class NotTextError extends Error {
  override name = 'NotTextError';
}

export class TextInspector {
  private readonly strictUtf8 = new TextDecoder('utf-8', { fatal: true });
  private validUtf8 = true;
  private markedEncoding: TextEncoding | undefined;
  private utf16Decoder: ReturnType<typeof iconv.getDecoder> | undefined;
  private readonly sampleChunks: Buffer[] = [];
  private sampleLength = 0;
  private offset = 0;

  /** Throws NotTextError at the first control character. */
  feed(chunk: Buffer): void {
    if (this.offset === 0) this.detectByteOrderMark(chunk);
    if (this.sampleLength < SAMPLE_BYTES) {
      const part = chunk.subarray(0, SAMPLE_BYTES - this.sampleLength);
      this.sampleChunks.push(part);
      this.sampleLength += part.length;
    }
    if (this.utf16Decoder) {
      this.refuseControls(this.utf16Decoder.write(chunk));
    } else {
      // Controls are the same bytes in UTF-8 and Windows-1252; latin1 maps bytes to code points 1:1.
      this.refuseControls(chunk.toString('latin1'));
      if (this.validUtf8 && this.markedEncoding === undefined) {
        try {
          this.strictUtf8.decode(chunk, { stream: true });
        } catch {
          this.validUtf8 = false;
        }
      }
    }
    this.offset += chunk.length;
  }

  /** The encoding, and the start of the file decoded with it (for delimiter detection). */
  finish(): { encoding: TextEncoding; sample: string } {
    if (this.offset === 0) throw new NotTextError('The file is empty');
    if (this.validUtf8 && this.markedEncoding === undefined) {
      try {
        this.strictUtf8.decode(); // a multi-byte character cut off at the very end
      } catch {
        this.validUtf8 = false;
      }
    }
    const encoding = this.markedEncoding ?? (this.validUtf8 ? 'utf-8' : 'windows-1252');
    const sample = iconv.decode(Buffer.concat(this.sampleChunks), encoding);
    return { encoding, sample };
  }

  private detectByteOrderMark(chunk: Buffer): void {
    const marked = BYTE_ORDER_MARKS.find(([, mark]) => chunk.subarray(0, mark.length).equals(mark));
    if (!marked) return;
    this.markedEncoding = marked[0];
    if (marked[0] !== 'utf-8') this.utf16Decoder = iconv.getDecoder(marked[0]);
  }

  private refuseControls(text: string): void {
    const match = CONTROL_CHARACTER.exec(text);
    if (match) {
      const code = match[0].charCodeAt(0).toString(16).padStart(2, '0');
      throw new NotTextError(`The file is not text: it contains the control character 0x${code} (a binary file renamed to .csv?)`);
    }
  }
}
