/**
 * The figures finance reports (issue 18): for each month, billing run or upload, how many
 * attempts and how much money ended in each report class (shared/src/report-classes.ts), with
 * declines and chargebacks broken down by EMP's reason code. Amounts stay in minor units and per
 * currency: euros and other currencies are never added together.
 *
 * An attempt belongs to the month it was sent to EMP in (its creation month while unsent), so a
 * month's line is a cohort: of the debits presented that month, what was collected, declined,
 * charged back or refunded since. The run and upload views split one month the same way, so
 * their lines add up to the month's.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { CLASSES_BY_REASON, REPORT_CLASSES, reportClassOf, type ReportClass } from '@tether/shared/report-classes';
import type { Executor } from '../db/executor';

export interface Tally {
  count: number;
  /** Minor units of the line's currency. */
  amount: number;
}

export interface FigureLine {
  /** 'YYYY-MM' by month; the run's or upload's id; 'none' for attempts without one. */
  key: string;
  currency: string;
  attempts: Tally;
  classes: Record<ReportClass, Tally>;
  /** Declines and chargebacks by reason code ('none' where EMP gave none). */
  reasons: Partial<Record<ReportClass, Record<string, Tally>>>;
}

export type FigureGrouping = 'month' | 'run' | 'upload';

/** The month an attempt is reported in, as an expression over billing_attempts. */
const COLLECTION_TIME = sql.raw(`coalesce(sent_at, created_at)`);

/** 'YYYY-MM' → the UTC instants that bound it; undefined for anything else. */
export function monthBounds(month: string): { start: Date; end: Date } | undefined {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) return undefined;
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { start: new Date(Date.UTC(year, index, 1)), end: new Date(Date.UTC(year, index + 1, 1)) };
}

export function currentMonth(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

const empty = (): Tally => ({ count: 0, amount: 0 });

function emptyLine(key: string, currency: string): FigureLine {
  return { key, currency, attempts: empty(), classes: Object.fromEntries(REPORT_CLASSES.map((name) => [name, empty()])) as FigureLine['classes'], reasons: {} };
}

export function addTally(tally: Tally, more: Tally | undefined) {
  if (!more) return;
  tally.count += more.count;
  tally.amount += more.amount;
}

interface GroupRow extends Record<string, unknown> {
  key: string | null;
  currency: string;
  status: AttemptStatus;
  error_code: string | null;
  count: number;
  amount: string;
}

/** The attempts' grouped counts, folded into lines in the order the query gave their keys. */
function foldLines(rows: readonly GroupRow[]): FigureLine[] {
  const lines = new Map<string, FigureLine>();
  for (const row of rows) {
    const key = row.key ?? 'none';
    const id = `${key}\u0000${row.currency}`;
    const line = lines.get(id) ?? emptyLine(key, row.currency);
    lines.set(id, line);
    const tally = { count: row.count, amount: Number(row.amount) };
    const reportClass = reportClassOf(row.status);
    addTally(line.attempts, tally);
    addTally(line.classes[reportClass], tally);
    if (CLASSES_BY_REASON.has(reportClass)) {
      const byCode = (line.reasons[reportClass] ??= {});
      addTally((byCode[row.error_code ?? 'none'] ??= empty()), tally);
    }
  }
  return [...lines.values()];
}

/** Grouped in SQL by key, currency, status and reason code; `keyText` formats the key once a group, not once a row. */
function groupedQuery(key: SQL, keyText: (grouped: SQL) => SQL, where: SQL, order: SQL): SQL {
  const grouped = sql.raw('grouped.key');
  return sql`
    select ${keyText(grouped)} as key, currency, status, error_code, count, amount
      from (select ${key} as key, currency, status, error_code, count(*)::int as count, sum(amount_cents)::text as amount
              from billing_attempts
             where ${where}
             group by 1, currency, status, error_code) grouped
     order by ${order}, currency`;
}

/** Every month's line, newest first. */
export async function figuresByMonth(db: Executor): Promise<FigureLine[]> {
  const month = sql`date_trunc('month', ${COLLECTION_TIME} at time zone 'UTC')`;
  const { rows } = await db.execute<GroupRow>(groupedQuery(month, (grouped) => sql`to_char(${grouped}, 'YYYY-MM')`, sql`true`, sql`grouped.key desc`));
  return foldLines(rows);
}

/** One month's attempts by the billing run that sent them, or by the upload they came from. */
export async function figuresOfMonthBy(db: Executor, grouping: 'run' | 'upload', month: string): Promise<FigureLine[]> {
  const bounds = monthBounds(month);
  if (!bounds) throw new RangeError(`not a month: ${month} (expected YYYY-MM)`);
  const key = sql.raw(grouping === 'run' ? 'billing_run_id' : 'upload_id');
  const where = sql`${COLLECTION_TIME} >= ${bounds.start.toISOString()}::timestamptz and ${COLLECTION_TIME} < ${bounds.end.toISOString()}::timestamptz`;
  const { rows } = await db.execute<GroupRow>(groupedQuery(key, (grouped) => sql`${grouped}::text`, where, sql`grouped.key nulls last`));
  return foldLines(rows);
}

/** The lines of one view; `month` is ignored by the month view. */
export function figures(db: Executor, grouping: FigureGrouping, month: string): Promise<FigureLine[]> {
  return grouping === 'month' ? figuresByMonth(db) : figuresOfMonthBy(db, grouping, month);
}

/** Every debit EMP collected, including those a chargeback or refund later took back. */
export function grossCollected(line: FigureLine): Tally {
  const { collected, charged_back, refunded } = line.classes;
  return { count: collected.count + charged_back.count + refunded.count, amount: collected.amount + charged_back.amount + refunded.amount };
}
