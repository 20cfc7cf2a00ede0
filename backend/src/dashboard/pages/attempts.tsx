/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Billing attempts: filtered by status, upload, debtor and creation date; one attempt with its
 * history (every notification, chargeback and reconciliation answer that touched it) and the
 * EMP events recorded for it.
 */
import { ATTEMPT_STATUSES, type AttemptStatus } from '@tether/shared/attempt-status';
import { maskIban, maskIbansInText, maskPersonalData } from '@tether/shared/mask';
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { Badge } from '../components/badge';
import { ChoiceFilter, DateRangeFilter } from '../components/filters';
import { Pager } from '../components/pager';
import type { DashboardContext } from '../context';
import { formatMoney, formatTime } from '../format';
import { isUuid, listWindow } from '../parameters';
import { eventsOfAttempt, findAttempt, listAttempts } from '../queries/attempts';
import { PAGE_SIZE } from '../queries/paging';
import { page } from '../render';

/** The fields every history entry has are shown as columns; the rest, masked, as details. */
const SHOWN = new Set(['at', 'source', 'from', 'to', 'outcome']);

const HistoryEntry: FC<{ entry: Record<string, unknown> }> = ({ entry }) => {
  const details = Object.entries(maskPersonalData(entry) as Record<string, unknown>).filter(([key, value]) => !SHOWN.has(key) && value !== undefined && value !== null);
  return (
    <li>
      <strong>{formatTime(typeof entry.at === 'string' ? entry.at : undefined)}</strong> · {String(entry.source ?? 'unknown source')}{' '}
      {entry.from && entry.to ? (
        <>
          · <Badge value={String(entry.from)} /> → <Badge value={String(entry.to)} />
        </>
      ) : null}{' '}
      {entry.outcome ? <Badge value={String(entry.outcome)} /> : null}
      {details.length > 0 ? (
        <div class="mono">
          {details.map(([key, value]) => (
            <div>
              {key}: {typeof value === 'object' ? JSON.stringify(value) : String(value)}
            </div>
          ))}
        </div>
      ) : null}
    </li>
  );
};

/** EMP's code and text, or Tether's own note (an answer it could not record), which has no code. */
const AttemptError: FC<{ code: string | null; message: string | null }> = ({ code, message }) => (
  <>
    {code ? <code>{code}</code> : null} {message ? maskIbansInText(message) : ''}
  </>
);

export function attemptPages(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/attempts', async (c) => {
      const query = c.req.query();
      const status = (ATTEMPT_STATUSES as readonly string[]).includes(query.status ?? '') ? (query.status as AttemptStatus) : undefined;
      const uploadId = isUuid(query.upload) ? query.upload : undefined;
      const debtorId = Number(query.debtor) || undefined;
      const rows = await listAttempts(context.db, {
        status,
        uploadId,
        debtorId,
        ...listWindow(query),
      });
      return page(
        c,
        'Billing attempts',
        '/dashboard/attempts',
        <>
          <form class="filters" method="get">
            <ChoiceFilter label="Status" name="status" options={ATTEMPT_STATUSES} selected={status} />
            <label>
              Upload id
              <input name="upload" value={uploadId ?? ''} size={38} />
            </label>
            <DateRangeFilter label="Created from" from={query.from} to={query.to} />
            {debtorId ? <input type="hidden" name="debtor" value={String(debtorId)} /> : null}
            <button type="submit">Filter</button>
          </form>
          <table>
            <tr>
              <th>id</th>
              <th>debtor</th>
              <th>IBAN</th>
              <th class="num">amount</th>
              <th>status</th>
              <th>EMP</th>
              <th>error</th>
              <th>created</th>
              <th>updated</th>
            </tr>
            {rows.map((attempt) => (
              <tr>
                <td>
                  <a href={`/dashboard/attempts/${attempt.id}`}>{attempt.id}</a>
                  {attempt.attemptNumber > 1 ? <small> (try {attempt.attemptNumber})</small> : null}
                </td>
                <td>{attempt.debtorName}</td>
                <td class="mono">{maskIban(attempt.iban)}</td>
                <td class="num">{formatMoney(attempt.amountCents, attempt.currency)}</td>
                <td>
                  <Badge value={attempt.status} />
                </td>
                <td>{attempt.empStatus ?? ''}</td>
                <td>
                  <AttemptError code={attempt.errorCode} message={attempt.errorMessage} />
                </td>
                <td>{formatTime(attempt.createdAt)}</td>
                <td>{formatTime(attempt.updatedAt)}</td>
              </tr>
            ))}
          </table>
          {rows.length === 0 ? <p class="empty">No attempts match.</p> : null}
          <Pager
            path="/dashboard/attempts"
            query={{ status, upload: uploadId, debtor: debtorId ? String(debtorId) : undefined, from: query.from, to: query.to }}
            before={rows.length === PAGE_SIZE ? rows.at(-1)!.id : undefined}
          />
        </>,
      );
    })
    .get('/dashboard/attempts/:id', async (c) => {
      const id = Number(c.req.param('id'));
      const found = Number.isSafeInteger(id) && id > 0 ? await findAttempt(context.db, id) : undefined;
      if (!found) return page(c, 'Attempt not found', '/dashboard/attempts', <p>No such billing attempt.</p>, 404);
      const { attempt, debtor } = found;
      const events = await eventsOfAttempt(context.db, id);
      return page(
        c,
        `Billing attempt ${attempt.id}`,
        '/dashboard/attempts',
        <>
          <div class="panel grid">
            <div>
              <div class="stat-label">status</div>
              <Badge value={attempt.status} /> {attempt.empStatus ? `EMP: ${attempt.empStatus}` : ''}
              <div>
                <AttemptError code={attempt.errorCode} message={attempt.errorMessage} />
              </div>
            </div>
            <div>
              <div class="stat-label">amount</div>
              {formatMoney(attempt.amountCents, attempt.currency)}
            </div>
            <div>
              <div class="stat-label">debtor</div>
              {debtor.nameOriginal} · <span class="mono">{maskIban(debtor.iban)}</span>
            </div>
            <div>
              <div class="stat-label">ids</div>
              <span class="mono">{attempt.transactionId}</span>
              {attempt.empUniqueId ? <div class="mono">EMP {attempt.empUniqueId}</div> : null}
            </div>
            <div>
              <div class="stat-label">from</div>
              {attempt.uploadId ? <a href={`/dashboard/uploads/${attempt.uploadId}`}>upload</a> : 'no upload'}
              {attempt.billingRunId ? (
                <>
                  {' · '}
                  <a href={`/dashboard/runs/${attempt.billingRunId}`}>billing run</a>
                </>
              ) : null}
            </div>
            <div>
              <div class="stat-label">sent · last reconciled</div>
              {formatTime(attempt.sentAt) || 'not sent'} · {formatTime(attempt.lastReconciledAt) || 'never'}
            </div>
          </div>
          <h2>History</h2>
          {attempt.history.length === 0 ? (
            <p class="empty">Nothing has happened to this attempt yet.</p>
          ) : (
            <ul class="timeline">
              {attempt.history.map((entry) => (
                <HistoryEntry entry={entry} />
              ))}
            </ul>
          )}
          <h2>EMP events</h2>
          <table>
            <tr>
              <th>event</th>
              <th>received</th>
              <th>type</th>
              <th>EMP status</th>
              <th>outcome</th>
            </tr>
            {events.map((event) => (
              <tr>
                <td>
                  <a href={`/dashboard/events/${event.id}`}>{event.id}</a>
                </td>
                <td>{formatTime(event.receivedAt)}</td>
                <td>{event.transactionType ?? ''}</td>
                <td>{event.empStatus ?? ''}</td>
                <td>
                  <Badge value={event.outcome} /> {event.error ?? ''}
                </td>
              </tr>
            ))}
          </table>
          {events.length === 0 ? <p class="empty">No EMP events recorded for this attempt.</p> : null}
        </>,
      );
    });
}
