/**
 * Messages in PostgreSQL as the dispatcher sees them: claiming, completing, retrying, and reading
 * or cancelling them for the API (inserting is in message-insert.ts). Claims use FOR UPDATE SKIP
 * LOCKED plus a lease, so two instances on one database never deliver a message at the same time.
 */
import type pg from 'pg';
import type { MessageSpec } from './message-spec';
import { SCHEMA } from './schema';

export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** A lease outlives the delivery timeout by this much, so a live deliverer never loses its claim. */
const LEASE_MARGIN_MS = 30_000;

export interface StoredMessage {
  messageId: string;
  spec: MessageSpec;
  body: Buffer;
  retried: number;
  notBefore: number;
  createdAt: number;
}

export interface MessageRow {
  message_id: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  max_retries: number;
  retried: number;
  timeout_ms: number | null;
  callback: string | null;
  failure_callback: string | null;
  flow_key: string | null;
  flow_rate: number | null;
  flow_period_ms: number | null;
  flow_parallelism: number | null;
  queue_name: string | null;
  schedule_id: string | null;
  label: string | null;
  not_before: string | number;
  created_at: string | number;
}

export function toStoredMessage(row: MessageRow): StoredMessage {
  return {
    messageId: row.message_id,
    body: row.body,
    retried: row.retried,
    notBefore: Number(row.not_before),
    createdAt: Number(row.created_at),
    spec: {
      url: row.url,
      method: row.method,
      headers: row.headers,
      maxRetries: row.max_retries,
      timeoutMs: row.timeout_ms,
      callback: row.callback,
      failureCallback: row.failure_callback,
      flowControl:
        row.flow_key === null
          ? null
          : { key: row.flow_key, rate: row.flow_rate, periodMs: row.flow_period_ms ?? 1_000, parallelism: row.flow_parallelism },
      queueName: row.queue_name,
      scheduleId: row.schedule_id,
      label: row.label,
    },
  };
}

/** The message columns shared by messages and dlq. */
export const MESSAGE_COLUMNS = [
  'message_id', 'url', 'method', 'headers', 'body', 'max_retries', 'retried', 'timeout_ms', 'callback',
  'failure_callback', 'flow_key', 'flow_rate', 'flow_period_ms', 'flow_parallelism', 'queue_name',
  'schedule_id', 'label', 'not_before', 'created_at',
].join(', ');

export class MessageStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly defaultTimeoutMs: number,
  ) {}

  private leaseExpression(now: string): string {
    return `${now} + coalesce(m.timeout_ms, ${this.defaultTimeoutMs}) + ${LEASE_MARGIN_MS}`;
  }

  private claimSql(groupCondition: string): string {
    const lease = this.leaseExpression('$1::int8');
    return `
      update ${SCHEMA}.messages m set lease_until = ${lease}, next_at = ${lease}
      from (select message_id from ${SCHEMA}.messages
            where ${groupCondition} and next_at <= $1::int8
            order by next_at limit $2 for update skip locked) due
      where m.message_id = due.message_id
      returning m.*`;
  }

  // The statements that run for every few messages are named, so each connection plans them once.

  /** Claims up to `limit` due messages that belong to no flow-control key or queue. */
  async claimUngrouped(now: number, limit: number): Promise<StoredMessage[]> {
    const result = await this.pool.query<MessageRow>({
      name: 'qstash-claim-ungrouped',
      text: this.claimSql('group_key is null'),
      values: [now, limit],
    });
    return result.rows.map(toStoredMessage).sort((a, b) => a.createdAt - b.createdAt);
  }

  async claimGroup(groupKey: string, now: number, limit: number, db: Queryable): Promise<StoredMessage[]> {
    const result = await db.query<MessageRow>({
      name: 'qstash-claim-group',
      text: this.claimSql('group_key = $3'),
      values: [now, limit, groupKey],
    });
    return result.rows.map(toStoredMessage).sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteMessages(messageIds: string[]): Promise<void> {
    await this.pool.query({
      name: 'qstash-delete-delivered',
      text: `delete from ${SCHEMA}.messages where message_id = any($1::text[])`,
      values: [messageIds],
    });
  }

  async scheduleRetry(messageId: string, retried: number, nextAt: number): Promise<void> {
    await this.pool.query(
      `update ${SCHEMA}.messages set retried = $2, next_at = $3, lease_until = 0 where message_id = $1`,
      [messageId, retried, nextAt],
    );
  }

  /** Gives a claimed message back untried, e.g. when the server closes mid-delivery. */
  async releaseClaims(messageIds: string[], now: number): Promise<void> {
    await this.pool.query(
      `update ${SCHEMA}.messages set next_at = $2, lease_until = 0 where message_id = any($1::text[])`,
      [messageIds, now],
    );
  }

  async deleteExpiredDeduplication(now: number): Promise<void> {
    await this.pool.query(`delete from ${SCHEMA}.deduplication where expires_at <= $1`, [now]);
  }
}

export interface CancelFilter {
  messageIds?: string[];
  url?: string[];
  queueName?: string[];
  flowControlKey?: string[];
  scheduleId?: string[];
  label?: string[];
  fromDate?: number;
  toDate?: number;
}

const CANCEL_COLUMNS: [keyof CancelFilter, string][] = [
  ['messageIds', 'message_id'],
  ['url', 'url'],
  ['queueName', 'queue_name'],
  ['flowControlKey', 'flow_key'],
  ['scheduleId', 'schedule_id'],
  ['label', 'label'],
];

export async function findMessage(db: Queryable, messageId: string): Promise<StoredMessage | null> {
  const result = await db.query<MessageRow>(`select * from ${SCHEMA}.messages where message_id = $1`, [messageId]);
  return result.rows[0] ? toStoredMessage(result.rows[0]) : null;
}

/** Cancels matching messages (all of them for an empty filter), as DELETE /v2/messages does. */
export async function cancelMessages(db: Queryable, filter: CancelFilter): Promise<number> {
  const params: unknown[] = [];
  const conditions = ['true'];
  for (const [field, column] of CANCEL_COLUMNS) {
    const values = filter[field];
    if (Array.isArray(values) && values.length > 0) {
      params.push(values);
      conditions.push(`${column} = any($${params.length}::text[])`);
    }
  }
  if (filter.fromDate !== undefined) conditions.push(`created_at >= $${params.push(filter.fromDate)}`);
  if (filter.toDate !== undefined) conditions.push(`created_at <= $${params.push(filter.toDate)}`);
  const result = await db.query(`delete from ${SCHEMA}.messages where ${conditions.join(' and ')}`, params);
  return result.rowCount ?? 0;
}
