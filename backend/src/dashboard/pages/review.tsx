/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * /dashboard/review: the review queues (review/queues.ts), each item with its actions: dismiss
 * with a reason, blacklist the debtor, reconcile the attempt now, replay the event. Every action
 * answers the queues as they are after it, with a notice; each leaves an audit entry.
 * Reading needs the read permission, acting the operate permission.
 */
import { maskIbansInText } from '@tether/shared/mask';
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { operatorActor } from '../../audit/actor';
import { requirePermission } from '../../auth/permissions';
import { EventNotFound } from '../../events/process';
import { blacklistFromReview, dismissItem, reconcileFromReview, replayFromReview, ReviewActionRefused } from '../../review/actions';
import { isReviewQueue, listReviewItems, QUEUE_ACTIONS, QUEUE_LIMIT, REVIEW_QUEUES, type ReviewItem, type ReviewQueue } from '../../review/queues';
import { Badge } from '../components/badge';
import type { DashboardContext } from '../context';
import { formatMoney, formatTime } from '../format';
import { page } from '../render';

const MAX_REASON = 500;

type Notice = { tone: 'ok' | 'bad'; text: string };

const QUEUE_TITLES: Record<ReviewQueue, { title: string; about: string }> = {
  chargebacks: {
    title: 'Chargebacks to review',
    about: 'Reason codes that need a person (unauthorised, debtor data, compliance, unknown or missing): decide whether to blacklist the debtor.',
  },
  notifications: {
    title: 'Notifications EMP contradicted or rejected',
    about: "EMP's answer differed from what the notification claimed (contradicted: EMP's state was applied) or EMP did not know it (rejected: nothing changed).",
  },
  'unknown-attempts': {
    title: 'Attempts stuck in unknown',
    about: 'Still unknown after the reconciliation window: ask EMP now, or dismiss once resolved with EMP.',
  },
  'pending-events': {
    title: 'Events pending match for more than a day',
    about: 'EMP answers no attempt claimed yet: replay once the attempt exists, or dismiss.',
  },
};

type Queues = Array<{ queue: ReviewQueue; items: ReviewItem[]; total: number }>;

const ItemLink: FC<{ queue: ReviewQueue; item: ReviewItem }> = ({ queue, item }) =>
  queue === 'notifications' || queue === 'pending-events' ? (
    <a href={`/dashboard/events/${item.id}`}>event {item.id}</a>
  ) : (
    <a href={`/dashboard/attempts/${item.id}`}>attempt {item.id}</a>
  );

const Actions: FC<{ queue: ReviewQueue; item: ReviewItem }> = ({ queue, item }) => {
  const base = `/dashboard/review/${queue}/${item.id}`;
  const swap = { 'hx-target': '#review-queues', 'hx-swap': 'outerHTML' };
  return (
    <div class="actions">
      {QUEUE_ACTIONS[queue].includes('reconcile') && item.attemptId !== null ? (
        <form class="inline" hx-post={`${base}/reconcile`} {...swap}>
          <button type="submit">Reconcile now</button>
        </form>
      ) : null}
      {QUEUE_ACTIONS[queue].includes('replay') ? (
        <form class="inline" hx-post={`${base}/replay`} {...swap}>
          <button type="submit">Replay</button>
        </form>
      ) : null}
      {QUEUE_ACTIONS[queue].includes('blacklist') ? (
        <form class="inline" hx-post={`${base}/blacklist`} {...swap}>
          <input name="reason" required minlength={3} maxlength={MAX_REASON} placeholder="why blacklist" aria-label={`Reason to blacklist for ${queue} item ${item.id}`} />
          <button type="submit" class="danger">
            Blacklist
          </button>
        </form>
      ) : null}
      <form class="inline" hx-post={`${base}/dismiss`} {...swap}>
        <input name="reason" required minlength={3} maxlength={MAX_REASON} placeholder="why dismiss" aria-label={`Reason to dismiss ${queue} item ${item.id}`} />
        <button type="submit" class="secondary">
          Dismiss
        </button>
      </form>
    </div>
  );
};

const QueueList: FC<{ queues: Queues; notice?: Notice }> = ({ queues, notice }) => (
  <div id="review-queues">
    {notice ? (
      <p class={`notice ${notice.tone}`} role="status">
        {notice.text}
      </p>
    ) : null}
    {queues.map(({ queue, items, total }) => (
      <section class="panel" data-queue={queue}>
        <h2>
          {QUEUE_TITLES[queue].title} <Badge value={String(total)} />
        </h2>
        <p>
          <small>{QUEUE_TITLES[queue].about}</small>
        </p>
        {items.length === 0 ? (
          <p class="empty">Nothing to review.</p>
        ) : (
          <table>
            <tr>
              <th>item</th>
              <th>since</th>
              <th>why</th>
              <th>detail</th>
              <th class="num">amount</th>
              <th></th>
            </tr>
            {items.map((item) => (
              <tr data-item={`${queue}/${item.id}`}>
                <td>
                  <ItemLink queue={queue} item={item} />
                  {queue === 'notifications' && item.attemptId !== null ? (
                    <>
                      <br />
                      <small>
                        <a href={`/dashboard/attempts/${item.attemptId}`}>attempt {item.attemptId}</a>
                      </small>
                    </>
                  ) : null}
                </td>
                <td>{formatTime(item.at)}</td>
                <td>
                  <Badge value={item.label} />
                </td>
                <td>{item.detail ? maskIbansInText(item.detail) : ''}</td>
                <td class="num">{item.amountCents === null ? '' : formatMoney(item.amountCents, item.currency ?? 'EUR')}</td>
                <td>
                  <Actions queue={queue} item={item} />
                </td>
              </tr>
            ))}
          </table>
        )}
        {total > QUEUE_LIMIT ? <p>The oldest {QUEUE_LIMIT} of {total} are shown.</p> : null}
      </section>
    ))}
  </div>
);

async function allQueues(context: DashboardContext): Promise<Queues> {
  const options = { unknownAfterMs: context.billing.reconciliation.unknownAfterMs };
  return Promise.all(REVIEW_QUEUES.map(async (queue) => ({ queue, ...(await listReviewItems(context.db, queue, options)) })));
}

function reasonOf(value: unknown): string | undefined {
  const reason = typeof value === 'string' ? value.trim() : '';
  return reason.length >= 3 && reason.length <= MAX_REASON ? reason : undefined;
}

type Action = 'dismiss' | 'blacklist' | 'reconcile' | 'replay';

async function act(c: Context, context: DashboardContext, action: Action): Promise<Notice> {
  const queue = c.req.param('queue') ?? '';
  const id = Number(c.req.param('id'));
  if (!isReviewQueue(queue) || !Number.isSafeInteger(id) || id <= 0) return { tone: 'bad', text: 'No such review item.' };
  const request = { queue, id, actor: operatorActor(c.get('operator')) };
  if (action === 'dismiss' || action === 'blacklist') {
    const reason = reasonOf((await c.req.parseBody()).reason);
    if (!reason) return { tone: 'bad', text: `Give a reason of 3 to ${MAX_REASON} characters.` };
    if (action === 'dismiss') {
      await dismissItem(context.billing, { ...request, reason });
      return { tone: 'ok', text: `Item ${id} dismissed.` };
    }
    const { maskedIban, created } = await blacklistFromReview(context.billing, { ...request, reason });
    return { tone: 'ok', text: created ? `${maskedIban} is blacklisted.` : `${maskedIban} was blacklisted already; the item is closed.` };
  }
  if (action === 'reconcile') {
    const { result, status } = await reconcileFromReview(context.billing, request);
    return { tone: result === 'failed' ? 'bad' : 'ok', text: `Attempt reconciled (${result.replace('_', ' ')}): it is ${status}.` };
  }
  const { outcome } = await replayFromReview(context.billing, request);
  return { tone: outcome === 'failed' ? 'bad' : 'ok', text: `Event ${id} replayed: ${outcome.replace('_', ' ')}.` };
}

function actionRoute(context: DashboardContext, action: Action) {
  return async (c: Context) => {
    let notice: Notice;
    let status: 200 | 422 = 200;
    try {
      notice = await act(c, context, action);
      if (notice.tone === 'bad' && action !== 'reconcile' && action !== 'replay') status = 422;
    } catch (error) {
      if (!(error instanceof ReviewActionRefused || error instanceof EventNotFound)) throw error;
      notice = { tone: 'bad', text: `Not done: ${error.message}.` };
      status = 422;
    }
    return c.html(<QueueList queues={await allQueues(context)} notice={notice} />, status);
  };
}

export function reviewPage(context: DashboardContext) {
  const app = new Hono()
    .get('/dashboard/review', requirePermission('read'), async (c) =>
      page(
        c,
        'Review',
        '/dashboard/review',
        <>
          <p>What needs a person's decision. Every action is recorded in the audit log with who did it and why.</p>
          <QueueList queues={await allQueues(context)} />
        </>,
      ),
    );
  for (const action of ['dismiss', 'blacklist', 'reconcile', 'replay'] as const) {
    app.post(`/dashboard/review/:queue/:id{[0-9]+}/${action}`, requirePermission('operate'), actionRoute(context, action));
  }
  return app;
}
