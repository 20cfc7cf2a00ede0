/**
 * POST /v2/publish/{destination}, POST /v2/enqueue/{queue}/{destination} and POST /v2/batch. The
 * acknowledge path is one INSERT; delivery happens later in the dispatcher.
 */
import { badRequest } from '../api-error';
import { insertMessages, type NewMessage, type PublishResult } from '../message-insert';
import { readDeduplicationKey, readMessageSpec, readNotBefore } from '../message-spec';
import type { Queryable } from '../message-store';
import { SCHEMA } from '../schema';
import type { ApiContext } from './context';

const QUEUE_NAME = /^[A-Za-z0-9._-]+$/;

export function validQueueName(name: string): string {
  if (!QUEUE_NAME.test(name)) {
    throw badRequest('queue names may only contain alphanumeric characters, hyphens, periods and underscores');
  }
  return name;
}

/** Enqueuing to an unknown queue creates it with the default parallelism, as QStash does. */
async function ensureQueues(db: Queryable, names: string[], now: number): Promise<void> {
  if (names.length === 0) return;
  await db.query(
    `insert into ${SCHEMA}.queues (name, created_at, updated_at) select unnest($1::text[]), $2, $2
     on conflict (name) do nothing`,
    [[...new Set(names)], now],
  );
}

function readMessage(headers: Headers, destination: string, body: Uint8Array, queueName: string | null): NewMessage {
  const now = Date.now();
  const spec = readMessageSpec(headers, destination, { queueName });
  return { spec, body, now, notBefore: readNotBefore(headers, now), dedupKey: readDeduplicationKey(headers, spec, body) };
}

function publishResponse(url: string, result: PublishResult) {
  return { messageId: result.messageId, url, ...(result.deduplicated ? { deduplicated: true } : {}) };
}

export async function publish(request: Request, context: ApiContext, destination: string, queueName: string | null = null) {
  const message = readMessage(request.headers, destination, new Uint8Array(await request.arrayBuffer()), queueName);
  if (queueName) await ensureQueues(context.pool, [validQueueName(queueName)], message.now);
  const result = await context.insert(message);
  if (!result.deduplicated) context.published(message.spec, message.notBefore);
  // QStash answers a duplicate with 202 Accepted and the id of the message it already has.
  return Response.json(publishResponse(message.spec.url, result), { status: result.deduplicated ? 202 : 200 });
}

interface BatchEntry {
  destination: string;
  headers?: Record<string, string>;
  body?: string;
  queue?: string;
}

function readBatch(payload: unknown): BatchEntry[] {
  const entries = Array.isArray(payload) ? payload : [payload];
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null || typeof (entry as BatchEntry).destination !== 'string') {
      throw badRequest('each batch entry needs a destination');
    }
  }
  return entries as BatchEntry[];
}

export async function batch(request: Request, context: ApiContext) {
  let payload: unknown;
  try {
    payload = await request.json();
  } catch {
    throw badRequest('batch body must be a JSON array');
  }
  const entries = readBatch(payload);
  const messages = entries.map((entry) =>
    readMessage(
      new Headers(entry.headers),
      entry.destination,
      new TextEncoder().encode(entry.body ?? ''),
      entry.queue ? validQueueName(entry.queue) : null,
    ),
  );
  await ensureQueues(
    context.pool,
    messages.flatMap(({ spec }) => (spec.queueName ? [spec.queueName] : [])),
    Date.now(),
  );
  // One statement, so a batch is accepted whole or not at all.
  const results = await insertMessages(context.pool, messages);
  for (const [index, message] of messages.entries()) {
    if (!results[index]!.deduplicated) context.published(message.spec, message.notBefore);
  }
  return Response.json(messages.map((message, index) => publishResponse(message.spec.url, results[index]!)));
}
