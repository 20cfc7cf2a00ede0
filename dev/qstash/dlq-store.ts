/**
 * The dead letter queue: messages whose retries ran out, with the last response they got. Listing,
 * deleting and retrying take the filters and cursor of QStash's /v2/dlq endpoints.
 */
import type { AttemptOutcome } from './delivery';
import { newId } from './ids';
import { MESSAGE_COLUMNS, toStoredMessage, type MessageRow, type Queryable, type StoredMessage } from './message-store';
import { SCHEMA } from './schema';
import { bodyFields, messageView } from './views';

export interface DlqEntry {
  dlqId: string;
  seq: number;
  message: StoredMessage;
  responseStatus: number | null;
  responseHeaders: Record<string, string[]> | null;
  responseBody: Buffer | null;
  error: string | null;
}

interface DlqRow extends MessageRow {
  dlq_id: string;
  seq: string | number;
  response_status: number | null;
  response_headers: Record<string, string[]> | null;
  response_body: Buffer | null;
  error: string | null;
}

const toEntry = (row: DlqRow): DlqEntry => ({
  dlqId: row.dlq_id,
  seq: Number(row.seq),
  message: toStoredMessage(row),
  responseStatus: row.response_status,
  responseHeaders: row.response_headers,
  responseBody: row.response_body,
  error: row.error,
});

export function dlqView(entry: DlqEntry) {
  return {
    ...messageView(entry.message),
    dlqId: entry.dlqId,
    responseStatus: entry.responseStatus ?? undefined,
    responseHeader: entry.responseHeaders ?? undefined,
    ...(entry.responseBody ? bodyFields('responseBody', entry.responseBody) : {}),
    error: entry.error ?? undefined,
  };
}

/** Moves a message out of the live table into the DLQ in one statement; null if it was cancelled meanwhile. */
export async function moveToDlq(
  db: Queryable,
  messageId: string,
  outcome: AttemptOutcome,
  now: number,
): Promise<string | null> {
  const result = await db.query<{ dlq_id: string }>(
    `with moved as (delete from ${SCHEMA}.messages where message_id = $1 returning *)
     insert into ${SCHEMA}.dlq (dlq_id, ${MESSAGE_COLUMNS}, response_status, response_headers, response_body, error, failed_at)
     select $2, ${MESSAGE_COLUMNS}, $3, $4::jsonb, $5, $6, $7 from moved
     returning dlq_id`,
    [
      messageId,
      newId('dlq'),
      outcome.status ?? null,
      JSON.stringify(outcome.responseHeaders),
      outcome.responseBody,
      outcome.error ?? null,
      now,
    ],
  );
  return result.rows[0]?.dlq_id ?? null;
}

export interface DlqFilter {
  dlqIds?: string[];
  messageId?: string[];
  url?: string[];
  queueName?: string[];
  scheduleId?: string[];
  flowControlKey?: string[];
  label?: string[];
  responseStatus?: number[];
  fromDate?: number;
  toDate?: number;
}

export interface DlqPage {
  count: number;
  cursor?: number;
  latestFirst: boolean;
}

const MULTI_VALUE_COLUMNS: [keyof DlqFilter, string, string][] = [
  ['dlqIds', 'dlq_id', 'text'],
  ['messageId', 'message_id', 'text'],
  ['url', 'url', 'text'],
  ['queueName', 'queue_name', 'text'],
  ['scheduleId', 'schedule_id', 'text'],
  ['flowControlKey', 'flow_key', 'text'],
  ['label', 'label', 'text'],
  ['responseStatus', 'response_status', 'int4'],
];

function whereClause(filter: DlqFilter, page: DlqPage | null, params: unknown[]): string {
  const conditions = ['true'];
  for (const [field, column, type] of MULTI_VALUE_COLUMNS) {
    const values = filter[field];
    if (Array.isArray(values) && values.length > 0) {
      params.push(values);
      conditions.push(`${column} = any($${params.length}::${type}[])`);
    }
  }
  if (filter.fromDate !== undefined) conditions.push(`failed_at >= $${params.push(filter.fromDate)}`);
  if (filter.toDate !== undefined) conditions.push(`failed_at <= $${params.push(filter.toDate)}`);
  if (page?.cursor !== undefined) conditions.push(`seq ${page.latestFirst ? '<' : '>'} $${params.push(page.cursor)}`);
  return conditions.join(' and ');
}

/** One page of matching entries and the cursor of the next page, if there is one. */
export async function listDlq(
  db: Queryable,
  filter: DlqFilter,
  page: DlqPage,
  lock = '',
): Promise<{ entries: DlqEntry[]; cursor?: number }> {
  const params: unknown[] = [];
  const where = whereClause(filter, page, params);
  const result = await db.query<DlqRow>(
    `select * from ${SCHEMA}.dlq where ${where} order by seq ${page.latestFirst ? 'desc' : 'asc'}
     limit ${page.count + 1} ${lock}`,
    params,
  );
  const entries = result.rows.slice(0, page.count).map(toEntry);
  const more = result.rows.length > page.count;
  return { entries, cursor: more ? entries[entries.length - 1]!.seq : undefined };
}

export async function getDlqEntry(db: Queryable, dlqId: string): Promise<DlqEntry | null> {
  const result = await db.query<DlqRow>(`select * from ${SCHEMA}.dlq where dlq_id = $1`, [dlqId]);
  return result.rows[0] ? toEntry(result.rows[0]) : null;
}

export async function deleteDlqEntries(db: Queryable, dlqIds: string[]): Promise<number> {
  const result = await db.query(`delete from ${SCHEMA}.dlq where dlq_id = any($1::text[])`, [dlqIds]);
  return result.rowCount ?? 0;
}
