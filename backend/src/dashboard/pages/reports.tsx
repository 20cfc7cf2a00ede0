/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * /dashboard/reports: what finance reports (issue 18). The chargeback ratio over the trailing 30
 * days against the warning threshold, and the figures per month, or one month's per billing run or
 * per upload (reports/figures.ts), each exportable as CSV with the attempts behind it. Read-only,
 * so viewers have it too.
 */
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { REPORT_CLASSES, type ReportClass } from '@tether/shared/report-classes';
import { chargebackRatios, RATIO_WINDOW_DAYS, type CurrencyRatio } from '../../reports/chargeback-ratio';
import { attemptsCsv, figuresCsv, type AttemptSelection } from '../../reports/exports';
import { currentMonth, figures, grossCollected, monthBounds, type FigureGrouping, type FigureLine, type Tally } from '../../reports/figures';
import { Badge } from '../components/badge';
import { formatRatio, RatioChart } from '../components/ratio-chart';
import type { DashboardContext } from '../context';
import { formatCount, formatMoney } from '../format';
import { isUuid } from '../parameters';
import { page } from '../render';

const GROUPINGS: readonly FigureGrouping[] = ['month', 'run', 'upload'];

const CLASS_LABELS: Record<ReportClass, string> = {
  outstanding: 'outstanding',
  collected: 'collected, kept',
  declined: 'declined',
  charged_back: 'charged back',
  refunded: 'refunded',
  cancelled: 'cancelled',
};

interface View {
  grouping: FigureGrouping;
  month: string;
}

/** The view a query asks for; a clear message instead when it names no month or no view. */
function viewOf(query: Record<string, string | undefined>): View | { problem: string } {
  const grouping = (query.by || 'month') as FigureGrouping;
  if (!GROUPINGS.includes(grouping)) return { problem: `unknown view "${query.by}": choose month, run or upload` };
  const month = query.month || currentMonth();
  if (!monthBounds(month)) return { problem: `not a month: "${month}" (expected YYYY-MM, e.g. ${currentMonth()})` };
  return { grouping, month };
}

function attemptsLink(view: View, line: FigureLine): string {
  const selection = new URLSearchParams({ month: view.grouping === 'month' ? line.key : view.month });
  if (view.grouping === 'run') selection.set('run', line.key);
  if (view.grouping === 'upload') selection.set('upload', line.key);
  return `/dashboard/reports/attempts.csv?${selection}`;
}

const Amount: FC<{ tally: Tally; currency: string }> = ({ tally, currency }) => (
  <>
    {formatCount(tally.count)}
    <br />
    <small>{formatMoney(tally.amount, currency)}</small>
  </>
);

const ByReason: FC<{ line: FigureLine; name: ReportClass }> = ({ line, name }) => {
  const codes = Object.entries(line.reasons[name] ?? {}).sort(([, a], [, b]) => b.count - a.count);
  if (codes.length === 0) return null;
  return (
    <details>
      <summary>by reason</summary>
      <ul class="reasons">
        {codes.map(([code, tally]) => (
          <li>
            <code>{code}</code> {formatCount(tally.count)} · {formatMoney(tally.amount, line.currency)}
          </li>
        ))}
      </ul>
    </details>
  );
};

function lineLabel(view: View, line: FigureLine) {
  if (line.key === 'none') return view.grouping === 'run' ? 'not in a run' : 'no upload';
  if (view.grouping === 'run') return <a href={`/dashboard/runs/${line.key}`}>{line.key.slice(0, 8)}</a>;
  if (view.grouping === 'upload') return <a href={`/dashboard/uploads/${line.key}`}>{line.key.slice(0, 8)}</a>;
  return <a href={`/dashboard/reports?by=run&month=${line.key}`}>{line.key}</a>;
}

const FiguresTable: FC<{ view: View; lines: FigureLine[] }> = ({ view, lines }) => (
  <table id="figures">
    <tr>
      <th>{view.grouping}</th>
      <th>currency</th>
      <th>attempts</th>
      <th>collected</th>
      {REPORT_CLASSES.map((name) => (
        <th>{CLASS_LABELS[name]}</th>
      ))}
      <th></th>
    </tr>
    {lines.map((line) => (
      <tr data-line={line.key}>
        <td>{lineLabel(view, line)}</td>
        <td>{line.currency}</td>
        <td>
          <Amount tally={line.attempts} currency={line.currency} />
        </td>
        <td>
          <Amount tally={grossCollected(line)} currency={line.currency} />
        </td>
        {REPORT_CLASSES.map((name) => (
          <td data-class={name}>
            <Amount tally={line.classes[name]} currency={line.currency} />
            <ByReason line={line} name={name} />
          </td>
        ))}
        <td>
          <a href={attemptsLink(view, line)}>attempts CSV</a>
        </td>
      </tr>
    ))}
  </table>
);

const RatioPanel: FC<{ ratios: CurrencyRatio[]; warning: number }> = ({ ratios, warning }) => (
  <section class="panel" id="chargeback-ratio">
    <h2>Chargeback ratio, trailing {RATIO_WINDOW_DAYS} days</h2>
    {ratios.length === 0 ? <p>No debits presented and no chargebacks in the last {RATIO_WINDOW_DAYS} days.</p> : null}
    {ratios.map(({ currency, current, series }) => {
      const above = (current.byCount ?? 0) >= warning || (current.byAmount ?? 0) >= warning;
      return (
        <div data-currency={currency}>
          <p>
            <strong>{currency}</strong>: by count <strong data-ratio="count">{formatRatio(current.byCount)}</strong> ({formatCount(current.chargebacks.count)} of{' '}
            {formatCount(current.presented.count)}), by amount <strong data-ratio="amount">{formatRatio(current.byAmount)}</strong> (
            {formatMoney(current.chargebacks.amount, currency)} of {formatMoney(current.presented.amount, currency)}); warning at {formatRatio(warning)}{' '}
            <Badge value={above ? 'above_warning' : 'below_warning'} />
          </p>
          <RatioChart series={series} warning={warning} currency={currency} />
          <small>Solid: by count; dotted: by amount; dashed: the warning threshold (CHARGEBACK_RATIO_WARNING_PERCENT).</small>
        </div>
      );
    })}
  </section>
);

const ViewForm: FC<{ view: View }> = ({ view }) => (
  <form class="filters" method="get" action="/dashboard/reports">
    <label>
      figures by
      <select name="by">
        {GROUPINGS.map((grouping) => (
          <option value={grouping} selected={grouping === view.grouping}>
            {grouping}
          </option>
        ))}
      </select>
    </label>
    <label>
      month (for run and upload)
      <input type="month" name="month" value={view.month} />
    </label>
    <button type="submit">Show</button>
    <a href={`/dashboard/reports/figures.csv?by=${view.grouping}&month=${view.month}`}>Export these figures (CSV)</a>
  </form>
);

function csvResponse(c: Context, fileName: string, chunks: AsyncGenerator<string>, context: DashboardContext) {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        context.log.error({ err: error, fileName }, 'export failed while streaming');
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return c.body(body, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${fileName}"` });
}

/** The run or upload a CSV of attempts is narrowed to: a uuid or 'none'; anything else is refused. */
function narrowing(value: string | undefined): string | undefined | false {
  if (value === undefined || value === '') return undefined;
  return value === 'none' || isUuid(value) ? value : false;
}

export function reportPages(context: DashboardContext) {
  const warning = context.reports.chargebackRatioWarning;
  return new Hono()
    .get('/dashboard/reports', async (c) => {
      const view = viewOf(c.req.query());
      if ('problem' in view) {
        return page(
          c,
          'Reports',
          '/dashboard/reports',
          <>
            <p class="notice bad" role="alert">
              {view.problem}
            </p>
            <ViewForm view={{ grouping: 'month', month: currentMonth() }} />
          </>,
          422,
        );
      }
      // Two scans of the attempts, on two connections at once.
      const [ratios, lines] = await Promise.all([chargebackRatios(context.db), figures(context.db, view.grouping, view.month)]);
      return page(
        c,
        'Reports',
        '/dashboard/reports',
        <>
          <RatioPanel ratios={ratios} warning={warning} />
          <ViewForm view={view} />
          {lines.length === 0 ? <p>No attempts {view.grouping === 'month' ? 'yet' : `in ${view.month}`}.</p> : <FiguresTable view={view} lines={lines} />}
          <p>
            <small>
              An attempt counts in the month it was sent to EMP (the month it was created in while unsent). "Collected" is every debit EMP collected;
              "collected, kept" excludes those charged back or refunded since.
            </small>
          </p>
        </>,
      );
    })
    .get('/dashboard/reports/figures.csv', async (c) => {
      const view = viewOf(c.req.query());
      if ('problem' in view) return c.text(view.problem, 400);
      const lines = await figures(context.db, view.grouping, view.month);
      const name = view.grouping === 'month' ? 'tether-figures-by-month.csv' : `tether-figures-${view.month}-by-${view.grouping}.csv`;
      return c.body(figuresCsv(view.grouping, lines), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` });
    })
    .get('/dashboard/reports/attempts.csv', (c) => {
      const query = c.req.query();
      const month = query.month || undefined;
      if (month !== undefined && !monthBounds(month)) return c.text(`not a month: "${month}" (expected YYYY-MM)`, 400);
      const runId = narrowing(query.run);
      const uploadId = narrowing(query.upload);
      if (runId === false || uploadId === false) return c.text('run and upload must each be an id or "none"', 400);
      const selection: AttemptSelection = { month, runId, uploadId };
      let chunks: AsyncGenerator<string>;
      try {
        chunks = attemptsCsv(context.pool, selection);
      } catch (error) {
        if (error instanceof RangeError) return c.text(error.message, 400);
        throw error;
      }
      const name = ['tether-attempts', month, runId && `run-${runId}`, uploadId && `upload-${uploadId}`].filter(Boolean).join('-');
      return csvResponse(c, `${name}.csv`, chunks, context);
    });
}
