/**
 * An S3-compatible server for local use and tests: the `s3rver` package, storing objects as files
 * under one directory, with the configured buckets created, CORS open so a browser can upload
 * through presigned URLs, and signatures actually checked (s3rver itself accepts any v4
 * signature). Works with the current AWS SDK v3 given `forcePathStyle: true` and checksums only
 * when required: s3rver knows neither virtual-host buckets under 127.0.0.1 nor the SDK's newer
 * trailing checksums.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { RunningServer } from '../running-server';
import { checkSignatureV4 } from './signature-v4';

export interface S3DevServerOptions {
  directory: string;
  port?: number;
  host?: string;
  buckets?: string[];
  /** The only credentials accepted; s3rver's own S3RVER/S3RVER pair when omitted. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string; configs: string[] }>;
}

interface KoaContext {
  method: string;
  req: IncomingMessage;
}

interface S3rver {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
  /** Koa's middleware stack, composed when the server starts listening. */
  middleware: Array<(context: KoaContext, next: () => Promise<void>) => Promise<void>>;
}

interface S3rverAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
}

// s3rver is CommonJS without type declarations; these are the few parts used here.
const require = createRequire(import.meta.url);
const S3rverServer = require('s3rver') as new (options: S3rverOptions) => S3rver;
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: S3rverAccount };
/** Thrown from middleware, rendered by s3rver as an S3 XML error with the code's HTTP status. */
const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string) => Error;

const S3RVER_DEFAULT_KEY = 'S3RVER';

/** Any origin may GET, HEAD and PUT (presigned uploads from the dashboard) and read the ETag. */
const BROWSER_UPLOAD_CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

export async function startS3DevServer(options: S3DevServerOptions): Promise<RunningServer> {
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new Error('startS3DevServer: give both accessKeyId and secretAccessKey, or neither');
  }
  const accessKeyId = options.accessKeyId ?? S3RVER_DEFAULT_KEY;
  const secretAccessKey = options.secretAccessKey ?? S3RVER_DEFAULT_KEY;
  // s3rver still looks the key up in its own registry after our signature check.
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const host = options.host ?? '127.0.0.1';
  const server = new S3rverServer({
    address: host,
    port: options.port ?? 0,
    directory: options.directory,
    // Also silences Koa's own error printing: S3 errors are answers to the client, not faults.
    silent: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [BROWSER_UPLOAD_CORS] })),
  });
  server.middleware.unshift(async (context, next) => {
    // CORS preflights carry no credentials, on S3 too.
    if (context.method !== 'OPTIONS') {
      const failure = checkSignatureV4(
        { method: context.method, url: context.req.url ?? '/', headers: context.req.headers },
        (keyId) => (keyId === accessKeyId ? secretAccessKey : undefined),
      );
      if (failure) throw new S3Error(failure.code, failure.message);
    }
    await next();
  });
  const { port } = await server.run();
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: async () => {
      server.httpServer.closeAllConnections();
      await server.close();
    },
  };
}
