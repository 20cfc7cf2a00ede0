/**
 * Schedules: a stored publish plus a cron expression. Each tick claims the due schedules with
 * FOR UPDATE SKIP LOCKED (so of several instances only one fires a given run), inserts one message
 * per schedule and moves it to its next run. A run missed while no server was up fires once.
 */
import type pg from 'pg';
import { nextRunAfter } from './cron';
import type { MessageSpec } from './message-spec';
import { insertMessage } from './message-insert';
import type { Queryable } from './message-store';
import { SCHEMA } from './schema';
import { inTransaction } from './transaction';
import { bodyFields } from './views';

export interface Schedule {
  scheduleId: string;
  cron: string;
  spec: MessageSpec;
  body: Buffer;
  delayMs: number;
  paused: boolean;
  createdAt: number;
  nextRunAt: number;
  lastRunAt: number | null;
}

interface ScheduleRow {
  schedule_id: string;
  cron: string;
  spec: MessageSpec;
  body: Buffer;
  delay_ms: string | number;
  paused: boolean;
  created_at: string | number;
  next_run_at: string | number;
  last_run_at: string | number | null;
}

const toSchedule = (row: ScheduleRow): Schedule => ({
  scheduleId: row.schedule_id,
  cron: row.cron,
  spec: row.spec,
  body: row.body,
  delayMs: Number(row.delay_ms),
  paused: row.paused,
  createdAt: Number(row.created_at),
  nextRunAt: Number(row.next_run_at),
  lastRunAt: row.last_run_at === null ? null : Number(row.last_run_at),
});

/** A run far beyond any horizon, for expressions that never fire again. */
const NEVER = 8_640_000_000_000_000;

/** Creates the schedule, or replaces it when the id exists (Upstash-Schedule-Id upserts). */
export async function upsertSchedule(
  db: Queryable,
  schedule: Pick<Schedule, 'scheduleId' | 'cron' | 'spec' | 'body' | 'delayMs'>,
  now: number,
): Promise<void> {
  await db.query(
    `insert into ${SCHEMA}.schedules (schedule_id, cron, spec, body, delay_ms, created_at, next_run_at)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (schedule_id) do update set cron = excluded.cron, spec = excluded.spec, body = excluded.body,
       delay_ms = excluded.delay_ms, next_run_at = excluded.next_run_at`,
    [
      schedule.scheduleId,
      schedule.cron,
      JSON.stringify(schedule.spec),
      schedule.body,
      schedule.delayMs,
      now,
      nextRunAfter(schedule.cron, now) ?? NEVER,
    ],
  );
}

export async function listSchedules(db: Queryable): Promise<Schedule[]> {
  const result = await db.query<ScheduleRow>(`select * from ${SCHEMA}.schedules order by created_at`);
  return result.rows.map(toSchedule);
}

export async function getSchedule(db: Queryable, scheduleId: string): Promise<Schedule | null> {
  const result = await db.query<ScheduleRow>(`select * from ${SCHEMA}.schedules where schedule_id = $1`, [scheduleId]);
  return result.rows[0] ? toSchedule(result.rows[0]) : null;
}

export async function deleteSchedule(db: Queryable, scheduleId: string): Promise<boolean> {
  const result = await db.query(`delete from ${SCHEMA}.schedules where schedule_id = $1`, [scheduleId]);
  return result.rowCount === 1;
}

/** Pausing skips runs; resuming continues from the next run after now, not the missed ones. */
export async function setSchedulePaused(db: Queryable, scheduleId: string, paused: boolean, now: number) {
  const schedule = await getSchedule(db, scheduleId);
  if (!schedule) return false;
  await db.query(`update ${SCHEMA}.schedules set paused = $2, next_run_at = $3 where schedule_id = $1`, [
    scheduleId,
    paused,
    paused ? schedule.nextRunAt : (nextRunAfter(schedule.cron, now) ?? NEVER),
  ]);
  return true;
}

/** Publishes one message for every due schedule; returns how many it published. */
export async function fireDueSchedules(pool: pg.Pool, now: number): Promise<number> {
  // Most ticks find nothing due; one cheap look spares them a transaction.
  const anyDue = await pool.query(`select 1 from ${SCHEMA}.schedules where not paused and next_run_at <= $1 limit 1`, [now]);
  if (anyDue.rowCount === 0) return 0;
  return inTransaction(pool, async (client) => {
    const due = await client.query<ScheduleRow>(
      `select * from ${SCHEMA}.schedules where not paused and next_run_at <= $1
       order by next_run_at limit 100 for update skip locked`,
      [now],
    );
    for (const schedule of due.rows.map(toSchedule)) {
      const spec = { ...schedule.spec, scheduleId: schedule.scheduleId };
      const { messageId } = await insertMessage(client, { spec, body: schedule.body, notBefore: now + schedule.delayMs, now });
      await client.query(
        `update ${SCHEMA}.schedules set next_run_at = $2, last_run_at = $3, last_message_id = $4 where schedule_id = $1`,
        [schedule.scheduleId, nextRunAfter(schedule.cron, now) ?? NEVER, now, messageId],
      );
    }
    return due.rowCount ?? 0;
  });
}

export function scheduleView(schedule: Schedule) {
  const { spec } = schedule;
  const flow = spec.flowControl;
  return {
    scheduleId: schedule.scheduleId,
    cron: schedule.cron,
    createdAt: schedule.createdAt,
    destination: spec.url,
    method: spec.method,
    header: Object.fromEntries(Object.entries(spec.headers).map(([name, value]) => [name, [value]])),
    ...bodyFields('body', schedule.body),
    retries: spec.maxRetries,
    delay: schedule.delayMs > 0 ? schedule.delayMs / 1_000 : undefined,
    callback: spec.callback ?? undefined,
    failureCallback: spec.failureCallback ?? undefined,
    isPaused: schedule.paused,
    queueName: spec.queueName ?? undefined,
    flowControlKey: flow?.key,
    parallelism: flow?.parallelism ?? undefined,
    rate: flow?.rate ?? undefined,
    period: flow ? flow.periodMs / 1_000 : undefined,
    label: spec.label ?? undefined,
    lastScheduleTime: schedule.lastRunAt ?? undefined,
    nextScheduleTime: schedule.nextRunAt < NEVER ? schedule.nextRunAt : undefined,
  };
}
