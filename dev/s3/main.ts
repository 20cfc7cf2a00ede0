/** Runs the S3 stand-in until interrupted: `npx tsx dev/s3/main.ts`. */
import { startS3DevServer } from './server';

const bucket = process.env.S3_BUCKET ?? 'tether';
const directory = process.env.S3_DEV_DIRECTORY ?? '.data/s3';
const server = await startS3DevServer({
  directory,
  port: Number(process.env.S3_DEV_PORT ?? 8078),
  buckets: [bucket],
  accessKeyId: process.env.S3_ACCESS_KEY_ID,
  secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
});

console.log(`S3 dev server: ${server.url}, bucket "${bucket}", files under ${directory} (path-style addressing)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
