/**
 * An uploaded file in object storage, read whole as a stream or in byte ranges, counting what
 * was fetched. Nothing is written to local disk: any node can process any upload.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import type { ObjectStorage } from '../storage/object-storage';
import type { RangeReader } from './zip-directory';

export class MissingObjectError extends Error {
  override name = 'MissingObjectError';
}

export class StoredFile {
  private fetched = 0;

  constructor(
    private readonly storage: ObjectStorage,
    readonly key: string,
    readonly size: number,
  ) {}

  bytesRead(): number {
    return this.fetched;
  }

  /** The whole object, or bytes [start, end). Destroy the stream if it is not read to the end. */
  async stream(range?: { start: number; end: number }): Promise<Readable> {
    if (range && range.end <= range.start) return Readable.from([]);
    const object = await this.storage.getObjectStream(this.key, { range });
    if (!object) throw new MissingObjectError(`the file ${this.key} is not in object storage`);
    const counted = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.fetched += chunk.length;
        done(null, chunk);
      },
    });
    // Errors travel both ways: a failing download fails the reader, a reader that stops early frees the connection.
    pipeline(object.body, counted, () => undefined);
    return counted;
  }

  readonly read: RangeReader = async (start, end) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.stream({ start, end })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
}
