/**
 * The chargeback ratio PSPs watch: chargebacks received in the trailing 30 days against debits
 * presented to EMP in the same 30 days, by count and by amount, per currency. A chargeback counts
 * on the day Tether applied it (the attempt's history), whatever became of it later (a reversed
 * chargeback was still received); a debit counts on the day it was sent.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import { addTally, type Tally } from './figures';

export const RATIO_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

export interface RatioPoint {
  /** The last UTC day of the window, 'YYYY-MM-DD'. */
  day: string;
  chargebacks: Tally;
  presented: Tally;
  /** Chargebacks over debits presented; null while nothing was presented. */
  byCount: number | null;
  byAmount: number | null;
}

export interface CurrencyRatio {
  currency: string;
  /** The window ending today. */
  current: RatioPoint;
  /** One point per day, oldest first, each over its own trailing window. */
  series: RatioPoint[];
}

interface DayRow extends Record<string, unknown> {
  day: string;
  currency: string;
  count: number;
  amount: string;
}

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function perDay(rows: readonly DayRow[]): Map<string, Map<string, Tally>> {
  const byCurrency = new Map<string, Map<string, Tally>>();
  for (const row of rows) {
    const days = byCurrency.get(row.currency) ?? new Map<string, Tally>();
    byCurrency.set(row.currency, days);
    days.set(row.day, { count: row.count, amount: Number(row.amount) });
  }
  return byCurrency;
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** The trailing ratio for each of the last `days` days, and today's, per currency that had debits or chargebacks. */
export async function chargebackRatios(db: Executor, { days = 90, now = new Date() } = {}): Promise<CurrencyRatio[]> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (days + RATIO_WINDOW_DAYS - 1) * DAY_MS).toISOString();
  const [presented, chargebacks] = await Promise.all([
    db.execute<DayRow>(sql`
      select to_char(sent_at at time zone 'UTC', 'YYYY-MM-DD') as day, currency, count(*)::int as count, sum(amount_cents)::text as amount
        from billing_attempts
       where sent_at >= ${since}::timestamptz
       group by 1, currency`),
    // Only attempts that are or were charged back; their first chargeback entry dates them.
    db.execute<DayRow>(sql`
      select to_char(received.at at time zone 'UTC', 'YYYY-MM-DD') as day, a.currency, count(*)::int as count, sum(a.amount_cents)::text as amount
        from billing_attempts a
        cross join lateral (
          select min((entry->>'at')::timestamptz) as at
            from jsonb_array_elements(a.history) entry
           where entry->>'to' = 'chargebacked'
        ) received
       where a.status in ('chargebacked', 'chargeback_reversed') and received.at >= ${since}::timestamptz
       group by 1, a.currency`),
  ]);
  const presentedByCurrency = perDay(presented.rows);
  const chargebacksByCurrency = perDay(chargebacks.rows);
  const currencies = [...new Set([...presentedByCurrency.keys(), ...chargebacksByCurrency.keys()])].sort();

  return currencies.map((currency) => {
    const presentedDays = presentedByCurrency.get(currency) ?? new Map<string, Tally>();
    const chargebackDays = chargebacksByCurrency.get(currency) ?? new Map<string, Tally>();
    const series: RatioPoint[] = [];
    for (let offset = days - 1; offset >= 0; offset -= 1) {
      const end = today - offset * DAY_MS;
      const window = { chargebacks: { count: 0, amount: 0 }, presented: { count: 0, amount: 0 } };
      for (let back = 0; back < RATIO_WINDOW_DAYS; back += 1) {
        const day = utcDay(new Date(end - back * DAY_MS));
        addTally(window.presented, presentedDays.get(day));
        addTally(window.chargebacks, chargebackDays.get(day));
      }
      series.push({
        day: utcDay(new Date(end)),
        ...window,
        byCount: ratio(window.chargebacks.count, window.presented.count),
        byAmount: ratio(window.chargebacks.amount, window.presented.amount),
      });
    }
    return { currency, current: series.at(-1)!, series };
  });
}
