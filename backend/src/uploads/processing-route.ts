/**
 * POST /qstash/uploads/process: QStash delivers {uploadId} here, to any node. The answer tells
 * QStash what to do next:
 *
 * - 401: not signed by QStash for this URL; nothing is read or written.
 * - 200: done — processed, refused for its content (status failed, reason on the upload), or
 *   nothing left to do (already completed, unknown upload).
 * - 409: another node is processing this upload right now; QStash retries later and finds it
 *   completed, or takes over if that node died.
 * - 489 with Upstash-NonRetryable-Error: a signed body that names no upload.
 * - 500: interrupted (database or storage unreachable); QStash retries and the next attempt
 *   resumes after the last committed batch.
 */
import { SignatureError, type Receiver } from '@upstash/qstash';
import { Hono } from 'hono';
import { z } from 'zod';
import type { UploadContext } from './context';
import { processUpload } from './process-upload';
import { PROCESS_UPLOAD_PATH } from './queue';
import { uploadView } from './routes';

const message = z.object({ uploadId: z.uuid() });

async function isSignedByQStash(receiver: Receiver, request: { signature: string; body: string; url: string }): Promise<boolean> {
  try {
    return await receiver.verify({ ...request, clockTolerance: 5 });
  } catch (error) {
    if (error instanceof SignatureError) return false;
    throw error;
  }
}

export function uploadProcessingRoutes({ context, receiver }: { context: UploadContext; receiver: Receiver }) {
  const url = `${context.publicUrl}${PROCESS_UPLOAD_PATH}`;
  return new Hono().post(PROCESS_UPLOAD_PATH, async (c) => {
    const signature = c.req.header('upstash-signature');
    const body = await c.req.text();
    if (!signature || !(await isSignedByQStash(receiver, { signature, body, url }))) {
      context.log.warn({ messageId: c.req.header('upstash-message-id') }, 'upload delivery refused: bad or missing Upstash-Signature');
      return c.json({ error: 'invalid signature' }, 401);
    }
    let parsed: ReturnType<typeof message.safeParse>;
    try {
      parsed = message.safeParse(JSON.parse(body));
    } catch {
      parsed = message.safeParse(undefined);
    }
    if (!parsed.success) {
      c.header('Upstash-NonRetryable-Error', 'true');
      return c.json({ error: 'the message names no upload' }, 489 as never);
    }
    try {
      const result = await processUpload(context, parsed.data.uploadId);
      if (result.outcome === 'busy') return c.json({ outcome: 'busy' }, 409);
      if (result.outcome === 'skipped') return c.json(result);
      return c.json({ outcome: result.outcome, upload: uploadView(result.upload) });
    } catch (error) {
      context.log.error({ uploadId: parsed.data.uploadId, error: error instanceof Error ? error.message : String(error) }, 'upload processing interrupted; QStash will retry');
      return c.json({ error: 'processing interrupted, retry' }, 500);
    }
  });
}
