/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * /dashboard/audit: the audit log (audit/record.ts), who did what to which target and when, with
 * the before and after of what changed, filtered by actor, action, target and dates, and exported
 * as CSV (the same filters, streamed page by page, cells formula-safe like an upload's error
 * report). Every role reads it: it shows no more personal data than the other pages (IBANs are
 * masked when entries are written, names never recorded), and accountability is what a read-only
 * reviewer is for.
 */
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { csvLine } from '@tether/shared/spreadsheet-csv';
import { ChoiceFilter, DateRangeFilter } from '../components/filters';
import { Pager } from '../components/pager';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { listWindow } from '../parameters';
import { PAGE_SIZE } from '../queries/paging';
import { auditVocabulary, listAudit, type AuditFilter, type AuditRow } from '../queries/audit';
import { page } from '../render';

/** Rows fetched per query while streaming the export. */
const EXPORT_PAGE = 1_000;
const CSV_HEADER = ['id', 'at', 'actor_kind', 'actor', 'action', 'target_kind', 'target_id', 'before', 'after', 'reason'];

const text = (value: string | undefined) => value?.trim().slice(0, 200) || undefined;

function filterOf(c: Context): AuditFilter & { query: Record<string, string | undefined> } {
  const query = c.req.query();
  return {
    actor: text(query.actor),
    action: text(query.action),
    targetKind: text(query.target_kind),
    targetId: text(query.target_id),
    ...listWindow(query),
    query: { actor: query.actor, action: query.action, target_kind: query.target_kind, target_id: query.target_id, from: query.from, to: query.to },
  };
}

const json = (value: Record<string, unknown> | null) => (value ? JSON.stringify(value) : '');

const Entries: FC<{ rows: AuditRow[] }> = ({ rows }) => (
  <table id="audit-entries">
    <tr>
      <th>at</th>
      <th>actor</th>
      <th>action</th>
      <th>target</th>
      <th>before</th>
      <th>after</th>
      <th>reason</th>
    </tr>
    {rows.map((row) => (
      <tr data-audit={String(row.id)}>
        <td>{formatTime(row.at)}</td>
        <td>
          {row.actorName} <small>({row.actorKind})</small>
        </td>
        <td>
          <code>{row.action}</code>
        </td>
        <td class="mono">{row.targetKind ? `${row.targetKind} ${row.targetId ?? ''}` : ''}</td>
        <td class="mono">{json(row.before)}</td>
        <td class="mono">{json(row.after)}</td>
        <td>{row.reason ?? ''}</td>
      </tr>
    ))}
  </table>
);

/** The export, written as it is read: a long log never sits whole in a node's memory. */
function exportStream(context: DashboardContext, filter: AuditFilter): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before = filter.before;
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`\ufeff${csvLine(CSV_HEADER)}`));
        return;
      }
      const rows = await listAudit(context.db, { ...filter, before }, EXPORT_PAGE);
      for (const row of rows) {
        const cells = [String(row.id), row.at.toISOString(), row.actorKind, row.actorName, row.action, row.targetKind ?? '', row.targetId ?? '', json(row.before), json(row.after), row.reason ?? ''];
        controller.enqueue(encoder.encode(csvLine(cells)));
      }
      if (rows.length < EXPORT_PAGE) controller.close();
      else before = rows.at(-1)!.id;
    },
  });
}

export function auditPage(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/audit', async (c) => {
      const { query, ...filter } = filterOf(c);
      const [rows, vocabulary] = await Promise.all([listAudit(context.db, filter), auditVocabulary(context.db)]);
      const exportQuery = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => Boolean(entry[1])));
      return page(
        c,
        'Audit log',
        '/dashboard/audit',
        <>
          <p>
            Every state-changing action by a person (or by Tether on a rule a person set), written in the same transaction as the action: who, when,
            what, on which target, and the before and after of what changed. Entries cannot be changed or deleted.
          </p>
          <form class="filters" method="get" action="/dashboard/audit">
            <label>
              Actor
              <input type="search" name="actor" value={query.actor ?? ''} size={24} />
            </label>
            <ChoiceFilter label="Action" name="action" options={vocabulary.actions} selected={query.action} />
            <ChoiceFilter label="Target" name="target_kind" options={vocabulary.targetKinds} selected={query.target_kind} />
            <label>
              Target id
              <input type="search" name="target_id" value={query.target_id ?? ''} size={12} />
            </label>
            <DateRangeFilter label="From" from={query.from} to={query.to} />
            <button type="submit">Filter</button>
            <a class="button secondary" href={`/dashboard/audit/export.csv${exportQuery.size ? `?${exportQuery}` : ''}`}>
              Export CSV
            </a>
          </form>
          <Entries rows={rows} />
          {rows.length === 0 ? <p class="empty">No entries match.</p> : null}
          <Pager path="/dashboard/audit" query={query} before={rows.length === PAGE_SIZE ? rows.at(-1)!.id : undefined} />
        </>,
      );
    })
    .get('/dashboard/audit/export.csv', (c) => {
      const { query: _query, ...filter } = filterOf(c);
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="tether-audit-${new Date().toISOString().slice(0, 10)}.csv"`);
      return c.body(exportStream(context, filter));
    });
}
