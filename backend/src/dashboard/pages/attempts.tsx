/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Billing attempts: filtered by status, upload, debtor and creation date; one attempt with its
 * history (every notification, chargeback and reconciliation answer that touched it), its refunds
 * (and the form that asks for one, whole or in part, with a reason) and the EMP events recorded for it.
 */
import { ATTEMPT_STATUSES, type AttemptStatus } from '@tether/shared/attempt-status';
import { maskIban, maskIbansInText, maskPersonalData } from '@tether/shared/mask';
import { parseAmountCents } from '@tether/shared/amount';
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { operatorActor } from '../../audit/actor';
import { CSRF_FIELD } from '../../auth/csrf';
import { requirePermission } from '../../auth/permissions';
import { describeError } from '../../events/describe-error';
import { COMMITTED_REFUND_STATUSES, MAX_REFUND_REASON, REFUNDABLE_STATUSES, RefundRefused, requestRefund } from '../../refunds/request';
import { sendRefund } from '../../refunds/send';
import { Badge } from '../components/badge';
import { ChoiceFilter, DateRangeFilter } from '../components/filters';
import { Pager } from '../components/pager';
import type { DashboardContext } from '../context';
import { formatMoney, formatTime } from '../format';
import { isUuid, listWindow } from '../parameters';
import { eventsOfAttempt, findAttempt, listAttempts, refundsOfAttempt } from '../queries/attempts';
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
    .get('/dashboard/attempts/:id', (c) => attemptDetail(c, context, Number(c.req.param('id'))))
    .post('/dashboard/attempts/:id/refunds', requirePermission('operate'), async (c) => {
      const id = Number(c.req.param('id'));
      const form = await c.req.parseBody();
      const amountText = typeof form.amount === 'string' ? form.amount.trim() : '';
      const amount = amountText ? parseAmountCents(amountText) : undefined;
      if (amount && !amount.ok) return attemptDetail(c, context, id, { tone: 'bad', text: `Not refunded: ${amount.message}` }, 422);
      const operator = c.get('operator');
      let refundId: number;
      try {
        const refund = await requestRefund(context.db, {
          attemptId: id,
          amountCents: amount?.ok ? amount.cents : undefined,
          reason: typeof form.reason === 'string' ? form.reason : '',
          actor: operatorActor(operator),
          requestedBy: operator.email,
        });
        refundId = refund.id;
      } catch (error) {
        if (!(error instanceof RefundRefused)) throw error;
        return attemptDetail(c, context, id, { tone: 'bad', text: `Not refunded: ${error.message}` }, 422);
      }
      context.log.info({ operatorId: operator.id, attemptId: id, refundId }, 'refund requested by an operator');
      // Sent now; if this node cannot (EMP down, no answer), the refund stays claimed or pending
      // and the next reconciliation pass sends or reconciles it.
      const sent = await sendRefund(context.billing, refundId).catch((error: unknown) => {
        context.log.warn({ refundId, error: describeError(error) }, 'refund not sent yet: reconciliation takes it over');
        return 'released' as const;
      });
      const text = sent === 'answered' ? `Refund ${refundId} sent to EMP.` : `Refund ${refundId} recorded; EMP has not answered yet, reconciliation follows it up.`;
      return attemptDetail(c, context, id, { tone: 'ok', text });
    });
}

type Notice = { tone: 'ok' | 'bad'; text: string };

const RefundForm: FC<{ attemptId: number; csrfToken: string; left: number; currency: string }> = ({ attemptId, csrfToken, left, currency }) => (
  <form class="filters" method="post" action={`/dashboard/attempts/${attemptId}/refunds`}>
    <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
    <label>
      Amount ({currency})
      <input name="amount" inputmode="decimal" size={10} placeholder={formatMoney(left, currency)} />
    </label>
    <label>
      Reason
      <input name="reason" required minlength={3} maxlength={MAX_REFUND_REASON} size={40} />
    </label>
    <button type="submit" class="danger">
      Refund
    </button>
    <small>Empty amount: all that is left, {formatMoney(left, currency)}.</small>
  </form>
);

async function attemptDetail(c: Context, context: DashboardContext, id: number, notice?: Notice, status: 200 | 422 = 200) {
  const found = Number.isSafeInteger(id) && id > 0 ? await findAttempt(context.db, id) : undefined;
  if (!found) return page(c, 'Attempt not found', '/dashboard/attempts', <p>No such billing attempt.</p>, 404);
  const { attempt, debtor } = found;
  const [events, refunds] = await Promise.all([eventsOfAttempt(context.db, id), refundsOfAttempt(context.db, id)]);
  const committed = refunds.filter((refund) => COMMITTED_REFUND_STATUSES.includes(refund.status)).reduce((sum, refund) => sum + refund.amountCents, 0);
  const left = attempt.amountCents - committed;
  return page(
    c,
    `Billing attempt ${attempt.id}`,
    '/dashboard/attempts',
    <>
      {notice ? (
        <p class={`notice ${notice.tone}`} role="status">
          {notice.text}
        </p>
      ) : null}
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
      <h2>Refunds</h2>
      {refunds.length > 0 ? (
        <table id="refunds">
          <tr>
            <th>refund</th>
            <th class="num">amount</th>
            <th>status</th>
            <th>EMP</th>
            <th>reason</th>
            <th>by</th>
            <th>requested</th>
          </tr>
          {refunds.map((refund) => (
            <tr>
              <td class="mono">{refund.transactionId}</td>
              <td class="num">{formatMoney(refund.amountCents, refund.currency)}</td>
              <td>
                <Badge value={refund.status} />
              </td>
              <td>
                {refund.empStatus ?? ''} <AttemptError code={refund.errorCode} message={refund.errorMessage} />
              </td>
              <td>{refund.reason}</td>
              <td>{refund.requestedBy}</td>
              <td>{formatTime(refund.createdAt)}</td>
            </tr>
          ))}
        </table>
      ) : (
        <p class="empty">No refunds.</p>
      )}
      {REFUNDABLE_STATUSES.includes(attempt.status) && left > 0 ? (
        <div class="panel">
          <RefundForm attemptId={attempt.id} csrfToken={c.get('csrfToken')} left={left} currency={attempt.currency} />
        </div>
      ) : null}
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
    status,
  );
}
