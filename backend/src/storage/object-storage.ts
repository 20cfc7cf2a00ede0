/**
 * The backend's only door to S3-compatible object storage (AWS S3, Cloudflare R2, MinIO, the dev
 * s3rver). Bodies stream through; nothing is buffered whole or written to local disk.
 */
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { attachmentDisposition } from './content-disposition';

export interface ObjectStorageConfig {
  /** Omitted for AWS S3 itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export interface ObjectInfo {
  size: number;
  etag: string;
  contentType: string | undefined;
}

export interface ObjectStream extends ObjectInfo {
  /** Must be consumed or destroyed, or the HTTP connection behind it stays taken. */
  body: Readable;
}

/** The storage itself could not be used (unreachable, bucket missing, credentials refused). */
export class StorageUnavailableError extends Error {}

/** Part size for uploads of unknown length: memory use is at most PART_SIZE * UPLOAD_QUEUE_SIZE. */
const PART_SIZE = 8 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 2;

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function describeCheckFailure(error: unknown): string {
  const status = statusOf(error);
  if (status === 404) return 'the bucket does not exist';
  if (status === 401 || status === 403) return 'access denied (check the access key and secret)';
  return error instanceof Error ? error.message : String(error);
}

export class ObjectStorage {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly location: string;

  constructor(config: ObjectStorageConfig) {
    this.bucket = config.bucket;
    this.location = config.endpoint ?? `AWS S3 (${config.region})`;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // The SDK's default optional CRC checksums (trailing, aws-chunked bodies) are not
      // understood by every S3-compatible store; S3 itself does not need them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** A Buffer, or a stream whose exact length is known; for unknown lengths use `upload`. */
  async putObject(key: string, body: Buffer, options?: { contentType?: string }): Promise<{ etag: string }>;
  async putObject(key: string, body: Readable, options: { contentType?: string; contentLength: number }): Promise<{ etag: string }>;
  async putObject(
    key: string,
    body: Buffer | Readable,
    options: { contentType?: string; contentLength?: number } = {},
  ): Promise<{ etag: string }> {
    const output = await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: options.contentType,
        ContentLength: Buffer.isBuffer(body) ? body.length : options.contentLength,
      }),
    );
    return { etag: output.ETag ?? '' };
  }

  /**
   * Streams a body of unknown length: small bodies become one PUT, larger ones a multipart upload
   * that is aborted (parts removed) if the stream or a part fails.
   */
  async upload(key: string, body: Readable, options: { contentType?: string } = {}): Promise<{ etag: string }> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType },
      partSize: PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
    });
    const output = await upload.done();
    return { etag: output.ETag ?? '' };
  }

  /**
   * undefined when there is no such object. With `range`, only bytes [start, end) are sent (and
   * `size` is theirs): an XLSX is read part by part through its ZIP directory.
   */
  async getObjectStream(key: string, options: { range?: { start: number; end: number } } = {}): Promise<ObjectStream | undefined> {
    const range = options.range && `bytes=${options.range.start}-${options.range.end - 1}`;
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
      return {
        body: output.Body as Readable,
        size: output.ContentLength ?? 0,
        etag: output.ETag ?? '',
        contentType: output.ContentType,
      };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  /** undefined when there is no such object (HEAD answers carry no body, so a missing bucket looks the same; see `check`). */
  async headObject(key: string): Promise<ObjectInfo | undefined> {
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: output.ContentLength ?? 0, etag: output.ETag ?? '', contentType: output.ContentType };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Copies an object within the bucket, in storage (nothing streams through here); false when there is no such source. */
  async copyObject(from: string, to: string): Promise<boolean> {
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}` }));
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === 'NoSuchKey') return false;
      throw error;
    }
  }

  /** Deleting a missing object succeeds, as on S3. */
  async deleteObject(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /**
   * A URL a browser can PUT the object to. The content type is signed, so the upload must send
   * exactly that Content-Type. A presigned PUT cannot carry a size range; give `contentLength`
   * (checked against your limit beforehand) to sign the exact size, and the store refuses any
   * other.
   */
  presignPut(key: string, options: { contentType: string; expiresIn: number; contentLength?: number }): Promise<string> {
    const signed = new Set(['content-type']);
    if (options.contentLength !== undefined) signed.add('content-length');
    return getSignedUrl(
      this.client,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: options.contentType, ContentLength: options.contentLength }),
      { expiresIn: options.expiresIn, signableHeaders: signed },
    );
  }

  /** The origin presigned URLs point browsers to (for the dashboard's Content-Security-Policy); signing is local, nothing is sent. */
  async browserOrigin(): Promise<string> {
    return new URL(await this.presignPut('origin', { contentType: 'text/plain', expiresIn: 60 })).origin;
  }

  /** A URL to download the object; with `downloadName` browsers save it under that name. */
  presignGet(key: string, options: { expiresIn: number; downloadName?: string }): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentDisposition: options.downloadName === undefined ? undefined : attachmentDisposition(options.downloadName),
      }),
      { expiresIn: options.expiresIn },
    );
  }

  /** For health checks: resolves when the bucket is reachable with these credentials. */
  async check(options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (error) {
      throw new StorageUnavailableError(
        `Object storage bucket "${this.bucket}" at ${this.location} is not usable: ${describeCheckFailure(error)}`,
        { cause: error },
      );
    }
  }

  close(): void {
    this.client.destroy();
  }
}
