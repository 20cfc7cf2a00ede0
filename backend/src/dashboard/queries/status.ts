/** The status page's numbers: counts by status, and the event pipeline minute by minute. */
import { count, gt, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { billingAttempts, blacklist, uploads, webhookEvents } from '../../db/schema';

export interface MinuteOfEvents {
  minute: Date;
  events: number;
  /** Seconds from the edge receiving the notification to the commit of its effect. */
  p50: number | null;
  p95: number | null;
}

async function countsBy(db: Database, table: typeof billingAttempts | typeof uploads, column: typeof billingAttempts.status | typeof uploads.status) {
  const rows = await db.select({ key: column, count: count() }).from(table).groupBy(column);
  return Object.fromEntries(rows.map((row) => [row.key, row.count]));
}

export async function statusCounters(db: Database) {
  const [attempts, uploadCounts, events, [listed]] = await Promise.all([
    countsBy(db, billingAttempts, billingAttempts.status),
    countsBy(db, uploads, uploads.status),
    db
      .select({ key: webhookEvents.outcome, count: count() })
      .from(webhookEvents)
      .where(gt(webhookEvents.receivedAt, sql`now() - interval '24 hours'`))
      .groupBy(webhookEvents.outcome),
    db.select({ count: count() }).from(blacklist).where(isNull(blacklist.removedAt)),
  ]);
  return {
    attempts,
    uploads: uploadCounts,
    eventsLastDay: Object.fromEntries(events.map((row) => [row.key, row.count])),
    blacklisted: listed?.count ?? 0,
  };
}

/** The last `minutes` minutes, oldest first, every minute present (a quiet minute has 0 events). */
export async function eventsPerMinute(db: Database, minutes = 60): Promise<MinuteOfEvents[]> {
  const latency = sql`extract(epoch from e.processed_at - e.received_at)`;
  const result = await db.execute<{ minute: Date; events: number; p50: number | null; p95: number | null }>(sql`
    select m.minute, count(e.id)::int as events,
      percentile_cont(0.5) within group (order by ${latency}) as p50,
      percentile_cont(0.95) within group (order by ${latency}) as p95
    from generate_series(date_trunc('minute', now()) - make_interval(mins => ${minutes - 1}), date_trunc('minute', now()), interval '1 minute') as m(minute)
    left join ${webhookEvents} e on date_trunc('minute', e.received_at) = m.minute
      and e.received_at >= date_trunc('minute', now()) - make_interval(mins => ${minutes - 1})
    group by m.minute order by m.minute`);
  return result.rows.map((row) => ({
    minute: new Date(row.minute),
    events: Number(row.events),
    p50: row.p50 === null ? null : Number(row.p50),
    p95: row.p95 === null ? null : Number(row.p95),
  }));
}
