/**
 * QStash deliveries, checked in one place for every /qstash/* route (billing, reconciliation,
 * VoP, uploads, EMP events): the signature checked for this exact URL (401 otherwise, nothing
 * read or written), then the JSON body. The body reaching here is already capped, before a byte
 * of it was read (http/body-caps.ts, 413 above 64 KiB). A body that can never succeed is answered 489 with
 * Upstash-NonRetryable-Error: QStash dead-letters it at once instead of retrying for days (a
 * plain 4xx would be retried like a 5xx).
 */
import { SignatureError, type Receiver } from '@upstash/qstash';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { Logger } from '../log';

const UNSIGNED_DELIVERY = 'delivery refused: bad or missing Upstash-Signature';

/** Whether QStash signed these bytes for this URL: false when missing, tampered, by another key or for another URL. */
async function isSignedByQStash(
  receiver: Receiver,
  request: { signature: string | undefined; body: string; url: string },
): Promise<boolean> {
  const { signature, body, url } = request;
  if (!signature) return false;
  try {
    return await receiver.verify({ signature, body, url, clockTolerance: 5 });
  } catch (error) {
    if (error instanceof SignatureError) return false;
    throw error;
  }
}

export interface SignatureCheck {
  receiver: Receiver;
  /** The URL QStash signs for: how QStash reaches this backend plus the route's path. */
  url: string;
  log: Logger;
  /** The warning a refused delivery is logged with, and fields logged beside its message id. */
  refusal?: { message?: string; fields?: Record<string, unknown> };
}

export type Refused = { ok: false; response: Response };
export type SignedBody = { ok: true; body: string } | Refused;
export type Delivery<T> = { ok: true; message: T } | Refused;

/** The body of a delivery QStash signed for `url`; otherwise the 401 answer, logged as a warning. */
export async function readSignedBody(c: Context, options: SignatureCheck): Promise<SignedBody> {
  const signature = c.req.header('upstash-signature');
  const body = await c.req.text();
  if (await isSignedByQStash(options.receiver, { signature, body, url: options.url })) return { ok: true, body };
  options.log.warn(
    { messageId: c.req.header('upstash-message-id'), ...options.refusal?.fields },
    options.refusal?.message ?? UNSIGNED_DELIVERY,
  );
  return { ok: false, response: c.json({ error: 'invalid signature' }, 401) };
}

/** The body as JSON, or undefined when it is not JSON (a schema then refuses it). */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** 489 with Upstash-NonRetryable-Error: the same bytes can never succeed, so QStash dead-letters them now. */
export function nonRetryable(c: Context, error: string): Response {
  c.header('Upstash-NonRetryable-Error', 'true');
  return c.json({ error }, 489 as never);
}

/** A signed delivery whose JSON body matches `schema`; otherwise 401 (unsigned) or 489 (malformed). */
export async function readDelivery<T extends z.ZodType>(
  c: Context,
  options: SignatureCheck & { schema: T },
): Promise<Delivery<z.output<T>>> {
  const signed = await readSignedBody(c, { refusal: { fields: { path: c.req.path } }, ...options });
  if (!signed.ok) return signed;
  const result = options.schema.safeParse(parseJson(signed.body));
  if (!result.success) return { ok: false, response: nonRetryable(c, 'malformed message') };
  return { ok: true, message: result.data };
}
