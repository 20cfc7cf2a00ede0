/**
 * The /v2/dlq endpoints the official client calls: list (filters, count, cursor, order), get,
 * delete one or many, and retry one or many. A retry publishes a new message with the stored body
 * and headers, overridden by any configuration headers on the retry request, and removes the entry.
 */
import {
  deleteDlqEntries,
  dlqView,
  getDlqEntry,
  listDlq,
  type DlqEntry,
  type DlqFilter,
  type DlqPage,
} from '../dlq-store';
import { notFound } from '../api-error';
import { readDeliveryOverrides, readForwardedHeaders, readNotBefore } from '../message-spec';
import { insertMessages } from '../message-insert';
import type { Queryable } from '../message-store';
import { inTransaction } from '../transaction';
import { queryNumber, queryValues, type ApiContext } from './context';

const MAX_PAGE = 100;

function readFilter(url: URL): DlqFilter {
  const dlqIds = queryValues(url, 'dlqIds');
  if (dlqIds) return { dlqIds };
  return {
    messageId: queryValues(url, 'messageId'),
    url: queryValues(url, 'url', { commaSeparated: false }),
    queueName: queryValues(url, 'queueName'),
    scheduleId: queryValues(url, 'scheduleId'),
    flowControlKey: queryValues(url, 'flowControlKey'),
    label: queryValues(url, 'label'),
    responseStatus: queryValues(url, 'responseStatus')?.map(Number),
    fromDate: queryNumber(url, 'fromDate'),
    toDate: queryNumber(url, 'toDate'),
  };
}

function readPage(url: URL, filter: DlqFilter): DlqPage {
  const count = Math.min(queryNumber(url, 'count') ?? MAX_PAGE, MAX_PAGE);
  return {
    // An explicit id list is acted on whole.
    count: filter.dlqIds ? filter.dlqIds.length : Math.max(1, count),
    cursor: queryNumber(url, 'cursor'),
    latestFirst: url.searchParams.get('order') === 'latestFirst',
  };
}

const withCursor = (cursor: number | undefined) => (cursor === undefined ? {} : { cursor: String(cursor) });

export async function listDlqMessages(request: Request, context: ApiContext) {
  const url = new URL(request.url);
  const filter = readFilter(url);
  const page = await listDlq(context.pool, filter, readPage(url, filter));
  return Response.json({ messages: page.entries.map(dlqView), ...withCursor(page.cursor) });
}

export async function getDlqMessage(_request: Request, context: ApiContext, [dlqId]: string[]) {
  const entry = await getDlqEntry(context.pool, dlqId!);
  if (!entry) throw notFound(`dlq message ${dlqId} not found`);
  return Response.json(dlqView(entry));
}

export async function deleteDlqMessage(_request: Request, context: ApiContext, [dlqId]: string[]) {
  if ((await deleteDlqEntries(context.pool, [dlqId!])) === 0) throw notFound(`dlq message ${dlqId} not found`);
  return new Response(null, { status: 200 });
}

export async function deleteDlqMessages(request: Request, context: ApiContext) {
  const url = new URL(request.url);
  const filter = readFilter(url);
  const page = await listDlq(context.pool, filter, readPage(url, filter));
  const deleted = await deleteDlqEntries(context.pool, page.entries.map((entry) => entry.dlqId));
  return Response.json({ deleted, ...withCursor(page.cursor) });
}

async function retryEntries(
  request: Request,
  context: ApiContext,
  select: (db: Queryable) => Promise<{ entries: DlqEntry[]; cursor?: number }>,
) {
  const overrides = readDeliveryOverrides(request.headers);
  const forwardedOverrides = readForwardedHeaders(request.headers);
  const now = Date.now();
  const notBefore = readNotBefore(request.headers, now);
  const { published, cursor } = await inTransaction(context.pool, async (client) => {
    const page = await select(client);
    const retries = page.entries.map(({ message }) => ({
      spec: { ...message.spec, ...overrides, headers: { ...message.spec.headers, ...forwardedOverrides } },
      body: message.body,
      notBefore,
      now,
    }));
    const results = await insertMessages(client, retries);
    await deleteDlqEntries(client, page.entries.map((entry) => entry.dlqId));
    const published = retries.map((retry, index) => ({ spec: retry.spec, messageId: results[index]!.messageId }));
    return { published, cursor: page.cursor };
  });
  for (const { spec } of published) context.published(spec, notBefore);
  return { responses: published.map(({ messageId }) => ({ messageId })), cursor };
}

// Two concurrent retries of one entry must not both publish it.
const LOCK_ROWS = 'for update skip locked';

export async function retryDlqMessage(request: Request, context: ApiContext, [dlqId]: string[]) {
  const { responses } = await retryEntries(request, context, (db) =>
    listDlq(db, { dlqIds: [dlqId!] }, { count: 1, latestFirst: false }, LOCK_ROWS),
  );
  if (responses.length === 0) throw notFound(`dlq message ${dlqId} not found`);
  return Response.json(responses[0], { status: 201 });
}

export async function retryDlqMessages(request: Request, context: ApiContext) {
  const url = new URL(request.url);
  const filter = readFilter(url);
  const { responses, cursor } = await retryEntries(request, context, (db) =>
    listDlq(db, filter, readPage(url, filter), LOCK_ROWS),
  );
  return Response.json({ responses, ...withCursor(cursor) }, { status: 201 });
}
