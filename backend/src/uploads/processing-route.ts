/**
 * POST /qstash/uploads/process: QStash delivers {uploadId} here, to any node. The answer tells
 * QStash what to do next:
 *
 * - 401: not signed by QStash for this URL; nothing is read or written.
 * - 200: done — processed, refused for its content (status failed, reason on the upload), or
 *   nothing left to do (already completed, unknown upload).
 * - 409 with Retry-After: another run holds this upload's lease right now; QStash retries once
 *   the lease would have run out, and finds it completed, or takes over if that node died. The
 *   answer comes at once: a delivery that cannot proceed yet holds no connection while it waits.
 * - 489 with Upstash-NonRetryable-Error: a signed body that names no upload.
 * - 500: interrupted (database or storage unreachable); QStash retries and the next attempt
 *   resumes after the last committed batch.
 */
import type { Receiver } from '@upstash/qstash';
import { Hono } from 'hono';
import { z } from 'zod';
import { nonRetryable, parseJson, readSignedBody } from '../http/qstash-delivery';
import type { UploadContext } from './context';
import { processUpload } from './process-upload';
import { PROCESS_UPLOAD_PATH } from './queue';
import { uploadView } from './routes';

const message = z.object({ uploadId: z.uuid() });

export function uploadProcessingRoutes({ context, receiver }: { context: UploadContext; receiver: Receiver }) {
  const url = `${context.publicUrl}${PROCESS_UPLOAD_PATH}`;
  return new Hono().post(PROCESS_UPLOAD_PATH, async (c) => {
    const signed = await readSignedBody(c, {
      receiver,
      url,
      log: context.log,
      refusal: { message: 'upload delivery refused: bad or missing Upstash-Signature' },
    });
    if (!signed.ok) return signed.response;
    const parsed = message.safeParse(parseJson(signed.body));
    if (!parsed.success) return nonRetryable(c, 'the message names no upload');
    try {
      const result = await processUpload(context, parsed.data.uploadId);
      if (result.outcome === 'busy') return c.json({ outcome: 'busy' }, 409, { 'Retry-After': String(result.retryAfterSeconds) });
      if (result.outcome === 'skipped') return c.json(result);
      return c.json({ outcome: result.outcome, upload: uploadView(result.upload) });
    } catch (error) {
      context.log.error({ uploadId: parsed.data.uploadId, error: error instanceof Error ? error.message : String(error) }, 'upload processing interrupted; QStash will retry');
      return c.json({ error: 'processing interrupted, retry' }, 500);
    }
  });
}
