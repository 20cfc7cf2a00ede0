/**
 * The review queues (issue 17): what needs a person's decision, read from the state Tether
 * already keeps, less what someone decided on (review_decisions). Four queues:
 *
 * - chargebacks: attempts charged back with a reason code whose class needs review
 *   (shared/src/reason-codes.ts: unauthorised, bad debtor data, compliance, unknown or missing);
 * - notifications: EMP notifications that EMP's own answer contradicted or rejected
 *   (confirmation/): a contradicted one changed the attempt to EMP's state, a rejected one nothing;
 * - unknown attempts: still unknown after the reconciliation window (RECONCILE_UNKNOWN_AFTER);
 * - pending events: EMP answers waiting for their attempt for more than a day.
 *
 * An item leaves its queue when it is dismissed (with a reason) or acted on, or when its state
 * moves on by itself (an unknown attempt reconciled, a pending event matched).
 */
import { CODES_WITHOUT_REVIEW } from '@tether/shared/reason-codes';
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';

export const REVIEW_QUEUES = ['chargebacks', 'notifications', 'unknown-attempts', 'pending-events'] as const;
export type ReviewQueue = (typeof REVIEW_QUEUES)[number];

export function isReviewQueue(value: string): value is ReviewQueue {
  return (REVIEW_QUEUES as readonly string[]).includes(value);
}

/** The actions each queue's items offer beside dismissing. */
export const QUEUE_ACTIONS: Record<ReviewQueue, ReadonlyArray<'blacklist' | 'reconcile' | 'replay'>> = {
  chargebacks: ['blacklist'],
  notifications: ['reconcile'],
  'unknown-attempts': ['reconcile'],
  'pending-events': ['replay'],
};

/** An event pending match is a review item after this long. */
const PENDING_EVENT_AGE = "interval '1 day'";
/** Items shown per queue; the count says how many there are. */
export const QUEUE_LIMIT = 100;

export interface ReviewItem {
  /** The attempt's id (chargebacks, unknown attempts) or the event's (notifications, pending events). */
  id: number;
  at: Date;
  /** The attempt the item is about, when there is one. */
  attemptId: number | null;
  /** Reason code, outcome or status: what put the item in its queue. */
  label: string;
  detail: string | null;
  amountCents: number | null;
  currency: string | null;
}

const undecided = (queue: ReviewQueue, id: ReturnType<typeof sql>) =>
  sql`not exists (select 1 from review_decisions r where r.queue = ${queue} and r.item_id = (${id})::text)`;

function itemsQuery(queue: ReviewQueue, options: { unknownAfterMs: number }) {
  switch (queue) {
    case 'chargebacks':
      return sql`
        select a.id, a.updated_at as at, a.id as attempt_id, coalesce(a.error_code, 'no reason code') as label,
               a.error_message as detail, a.amount_cents, a.currency
        from billing_attempts a
        where a.status = 'chargebacked'
          and (a.error_code is null or not (a.error_code = any(${sql.param(CODES_WITHOUT_REVIEW)}::text[])))
          and ${undecided(queue, sql`a.id`)}`;
    case 'notifications':
      return sql`
        select e.id, e.received_at as at, e.billing_attempt_id as attempt_id, e.outcome as label, e.error as detail,
               null::bigint as amount_cents, null::text as currency
        from webhook_events e
        where e.source = 'notification' and e.outcome in ('contradicted', 'rejected') and ${undecided(queue, sql`e.id`)}`;
    case 'unknown-attempts':
      return sql`
        select a.id, a.updated_at as at, a.id as attempt_id, a.status as label,
               'unknown since ' || to_char(a.updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' ||
                 coalesce(', last asked ' || to_char(a.last_reconciled_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC', ', never asked') as detail,
               a.amount_cents, a.currency
        from billing_attempts a
        where a.status = 'unknown' and a.updated_at < now() - ${options.unknownAfterMs} * interval '1 millisecond'
          and ${undecided(queue, sql`a.id`)}`;
    case 'pending-events':
      return sql`
        select e.id, e.received_at as at, null::bigint as attempt_id, coalesce(e.transaction_type, 'event') as label,
               coalesce(e.attempt_unique_id, e.transaction_id) as detail, null::bigint as amount_cents, null::text as currency
        from webhook_events e
        where e.outcome = 'pending_match' and e.received_at < now() - ${sql.raw(PENDING_EVENT_AGE)} and ${undecided(queue, sql`e.id`)}`;
  }
}

interface ItemRow {
  id: number;
  at: Date;
  attempt_id: number | null;
  label: string;
  detail: string | null;
  amount_cents: number | null;
  currency: string | null;
  [column: string]: unknown;
}

function toItem(row: ItemRow): ReviewItem {
  return {
    id: Number(row.id),
    at: new Date(row.at),
    attemptId: row.attempt_id === null ? null : Number(row.attempt_id),
    label: row.label,
    detail: row.detail,
    amountCents: row.amount_cents === null ? null : Number(row.amount_cents),
    currency: row.currency,
  };
}

export async function listReviewItems(db: Executor, queue: ReviewQueue, options: { unknownAfterMs: number }): Promise<{ items: ReviewItem[]; total: number }> {
  const query = itemsQuery(queue, options);
  const [{ rows }, { rows: counted }] = await Promise.all([
    db.execute<ItemRow>(sql`select * from (${query}) q order by at, id limit ${QUEUE_LIMIT}`),
    db.execute<{ total: number }>(sql`select count(*)::int as total from (${query}) q`),
  ]);
  return { total: counted[0]?.total ?? 0, items: rows.map(toItem) };
}

/** The item as its queue shows it now, or undefined when it is not (or no longer) in the queue. */
export async function findReviewItem(db: Executor, queue: ReviewQueue, id: number, options: { unknownAfterMs: number }): Promise<ReviewItem | undefined> {
  const { rows } = await db.execute<ItemRow>(sql`select * from (${itemsQuery(queue, options)}) q where q.id = ${id}`);
  return rows[0] && toItem(rows[0]);
}
