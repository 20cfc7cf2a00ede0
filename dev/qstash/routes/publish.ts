/**
 * POST /v2/publish/{destination}, POST /v2/enqueue/{queue}/{destination} and POST /v2/batch. The
 * acknowledge path is one INSERT; delivery happens later in the dispatcher.
 */
import { badRequest } from '../api-error';
import { readDeduplicationKey, readMessageSpec, readNotBefore } from '../message-spec';
import { insertMessage, type Queryable } from '../message-store';
import { SCHEMA } from '../schema';
import { inTransaction } from '../transaction';
import type { ApiContext } from './context';

const QUEUE_NAME = /^[A-Za-z0-9._-]+$/;

export function validQueueName(name: string): string {
  if (!QUEUE_NAME.test(name)) {
    throw badRequest('queue names may only contain alphanumeric characters, hyphens, periods and underscores');
  }
  return name;
}

/** Enqueuing to an unknown queue creates it with the default parallelism, as QStash does. */
async function ensureQueue(db: Queryable, name: string, now: number): Promise<void> {
  await db.query(
    `insert into ${SCHEMA}.queues (name, created_at, updated_at) values ($1, $2, $2) on conflict (name) do nothing`,
    [name, now],
  );
}

async function acceptMessage(
  db: Queryable,
  headers: Headers,
  destination: string,
  body: Uint8Array,
  queueName: string | null,
) {
  const now = Date.now();
  const spec = readMessageSpec(headers, destination, { queueName });
  const notBefore = readNotBefore(headers, now);
  if (queueName) await ensureQueue(db, queueName, now);
  const result = await insertMessage(db, spec, body, {
    notBefore,
    now,
    dedupKey: readDeduplicationKey(headers, spec, body),
  });
  return { spec, notBefore, result };
}

function publishResponse(url: string, result: { messageId: string; deduplicated: boolean }) {
  return { messageId: result.messageId, url, ...(result.deduplicated ? { deduplicated: true } : {}) };
}

export async function publish(request: Request, context: ApiContext, destination: string, queueName: string | null = null) {
  const body = new Uint8Array(await request.arrayBuffer());
  const accepted = await acceptMessage(context.pool, request.headers, destination, body, queueName);
  if (!accepted.result.deduplicated) context.published(accepted.spec, accepted.notBefore);
  // QStash answers a duplicate with 202 Accepted and the id of the message it already has.
  return Response.json(publishResponse(accepted.spec.url, accepted.result), {
    status: accepted.result.deduplicated ? 202 : 200,
  });
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
  // One transaction, so a batch is accepted whole or not at all.
  const accepted = await inTransaction(context.pool, async (client) => {
    const results = [];
    for (const entry of entries) {
      const queueName = entry.queue ? validQueueName(entry.queue) : null;
      const body = new TextEncoder().encode(entry.body ?? '');
      results.push(await acceptMessage(client, new Headers(entry.headers), entry.destination, body, queueName));
    }
    return results;
  });
  for (const { spec, notBefore, result } of accepted) if (!result.deduplicated) context.published(spec, notBefore);
  return Response.json(accepted.map(({ spec, result }) => publishResponse(spec.url, result)));
}
