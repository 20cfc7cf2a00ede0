/**
 * The finance exports (issue 18), as spreadsheet-safe CSV (shared/src/spreadsheet-csv.ts):
 * the figures of a report view, and the attempts behind them, one line each. The attempts are
 * read in pages by id and written as they come, so a million of them stream in the memory of
 * one page. IBANs are masked: the export is for accounting, open to viewers.
 */
import type pg from 'pg';
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { minorUnitsAsDecimal } from '@tether/shared/currency';
import { maskIban } from '@tether/shared/mask';
import { REPORT_CLASSES, reportClassOf } from '@tether/shared/report-classes';
import { csvLine, UTF8_BOM } from '@tether/shared/spreadsheet-csv';
import { grossCollected, monthBounds, type FigureGrouping, type FigureLine } from './figures';

export const EXPORT_PAGE_SIZE = 5_000;

const money = minorUnitsAsDecimal;

export function figuresCsv(grouping: FigureGrouping, lines: readonly FigureLine[]): string {
  const header = [grouping, 'currency', 'attempts', 'attempts_amount', 'gross_collected', 'gross_collected_amount'];
  for (const name of REPORT_CLASSES) header.push(name, `${name}_amount`);
  header.push('declined_by_reason', 'charged_back_by_reason');
  const body = lines.map((line) => {
    const gross = grossCollected(line);
    const cells = [line.key, line.currency, String(line.attempts.count), money(line.attempts.amount, line.currency), String(gross.count), money(gross.amount, line.currency)];
    for (const name of REPORT_CLASSES) cells.push(String(line.classes[name].count), money(line.classes[name].amount, line.currency));
    for (const name of ['declined', 'charged_back'] as const) {
      const byCode = Object.entries(line.reasons[name] ?? {}).sort(([a], [b]) => a.localeCompare(b));
      cells.push(byCode.map(([code, tally]) => `${code}:${tally.count}:${money(tally.amount, line.currency)}`).join(' '));
    }
    return csvLine(cells);
  });
  return UTF8_BOM + csvLine(header) + body.join('');
}

/**
 * Which attempts an export holds: one month's, or one run's or upload's whole (every month), or
 * a month's narrowed to one run or upload ('none': the attempts without one).
 */
export interface AttemptSelection {
  month?: string;
  runId?: string;
  uploadId?: string;
}

const ATTEMPT_HEADER = [
  'attempt_id',
  'transaction_id',
  'emp_unique_id',
  'upload_id',
  'billing_run_id',
  'attempt_number',
  'created_at',
  'sent_at',
  'status',
  'report_class',
  'amount',
  'currency',
  'reason_code',
  'reason',
  'iban',
  'mandate_reference',
  'external_reference',
];

interface AttemptLine {
  id: number;
  transaction_id: string;
  emp_unique_id: string | null;
  upload_id: string | null;
  billing_run_id: string | null;
  attempt_number: number;
  created_at: string;
  sent_at: string | null;
  status: AttemptStatus;
  amount_cents: string;
  currency: string;
  error_code: string | null;
  error_message: string | null;
  iban: string;
  mandate_reference: string | null;
  external_reference: string | null;
}

/** The selection as a WHERE clause over billing_attempts `a`, with its parameters; a RangeError for a month that is not one. */
function selectionFilter(selection: AttemptSelection): { where: string; params: unknown[] } {
  const clauses = ['true'];
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (selection.month !== undefined) {
    const bounds = monthBounds(selection.month);
    if (!bounds) throw new RangeError(`not a month: ${selection.month} (expected YYYY-MM)`);
    clauses.push(`coalesce(a.sent_at, a.created_at) >= ${param(bounds.start)} and coalesce(a.sent_at, a.created_at) < ${param(bounds.end)}`);
  }
  for (const [column, id] of [['billing_run_id', selection.runId], ['upload_id', selection.uploadId]] as const) {
    if (id !== undefined) clauses.push(id === 'none' ? `a.${column} is null` : `a.${column} = ${param(id)}::uuid`);
  }
  return { where: clauses.join(' and '), params };
}

function attemptCells(row: AttemptLine): string[] {
  return [
    String(row.id),
    row.transaction_id,
    row.emp_unique_id ?? '',
    row.upload_id ?? '',
    row.billing_run_id ?? '',
    String(row.attempt_number),
    row.created_at,
    row.sent_at ?? '',
    row.status,
    reportClassOf(row.status),
    money(Number(row.amount_cents), row.currency),
    row.currency,
    row.error_code ?? '',
    row.error_message ?? '',
    maskIban(row.iban),
    row.mandate_reference ?? '',
    row.external_reference ?? '',
  ];
}

/**
 * The selection's attempts as CSV, read through a cursor a page at a time and written as read.
 * A RangeError before any output when the month is not one, or when nothing bounds the selection
 * (a month, or one run or upload). The cursor lives in a read-only transaction on a connection of
 * its own, given back when the export ends, fails or its reader stops.
 */
export function attemptsCsv(pool: pg.Pool, selection: AttemptSelection): AsyncGenerator<string> {
  const bounded = selection.month !== undefined || [selection.runId, selection.uploadId].some((id) => id !== undefined && id !== 'none');
  if (!bounded) throw new RangeError('choose a month, a run or an upload');
  const { where, params } = selectionFilter(selection);
  return (async function* pages() {
    const client = await pool.connect();
    let finished = false;
    try {
      await client.query('begin read only');
      // Every row will be read: plan for the whole result (one pass, a hash join), not for the first rows.
      await client.query('set local cursor_tuple_fraction = 1');
      await client.query(
        `declare attempts_export no scroll cursor for
         select a.id, a.transaction_id, a.emp_unique_id, a.upload_id, a.billing_run_id, a.attempt_number,
                to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as created_at,
                to_char(a.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as sent_at,
                a.status, a.amount_cents::text, a.currency, a.error_code, a.error_message,
                d.iban, d.mandate_reference, d.external_reference
           from billing_attempts a join debtors d on d.id = a.debtor_id
          where ${where}
          order by a.id`,
        params,
      );
      yield UTF8_BOM + csvLine(ATTEMPT_HEADER);
      for (;;) {
        const { rows } = await client.query<AttemptLine>(`fetch ${EXPORT_PAGE_SIZE} from attempts_export`);
        if (rows.length > 0) yield rows.map((row) => csvLine(attemptCells(row))).join('');
        if (rows.length < EXPORT_PAGE_SIZE) break;
      }
      await client.query('commit');
      finished = true;
    } finally {
      if (!finished) await client.query('rollback').catch(() => undefined);
      client.release();
    }
  })();
}
