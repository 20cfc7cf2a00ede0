/**
 * The shape every QStash delivery route of billing, reconciliation and VoP shares: the signature
 * checked for this exact URL (401 otherwise, nothing read or written), then the JSON body checked
 * against its schema (489 with Upstash-NonRetryable-Error otherwise: the same bytes can never
 * succeed, so QStash dead-letters them at once instead of retrying for days).
 */
import { SignatureError, type Receiver } from '@upstash/qstash';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { Logger } from '../log';

export type Delivery<T> = { ok: true; message: T } | { ok: false; response: Response };

export async function readDelivery<T extends z.ZodType>(
  c: Context,
  options: { receiver: Receiver; url: string; schema: T; log: Logger },
): Promise<Delivery<z.output<T>>> {
  const signature = c.req.header('upstash-signature');
  const body = await c.req.text();
  let signed = false;
  if (signature) {
    try {
      signed = await options.receiver.verify({ signature, body, url: options.url, clockTolerance: 5 });
    } catch (error) {
      if (!(error instanceof SignatureError)) throw error;
    }
  }
  if (!signed) {
    options.log.warn({ messageId: c.req.header('upstash-message-id'), path: c.req.path }, 'delivery refused: bad or missing Upstash-Signature');
    return { ok: false, response: c.json({ error: 'invalid signature' }, 401) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const result = options.schema.safeParse(parsed);
  if (!result.success) {
    c.header('Upstash-NonRetryable-Error', 'true');
    return { ok: false, response: c.json({ error: 'malformed message' }, 489 as never) };
  }
  return { ok: true, message: result.data };
}
