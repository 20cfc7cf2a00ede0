/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * EMP events: the audit log (webhook_events) with filters, one event with its masked payload,
 * and replay of events whose outcome is not final (pending_match, failed) through the same
 * apply path as a delivery (events/process.ts: final events are left alone, replays are idempotent).
 */
import { maskPersonalData } from '@tether/shared/mask';
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { operatorActor } from '../../audit/actor';
import { operatorMay } from '../../auth/permissions';
import type { Operator } from '../../auth/operators';
import { EventNotFound, reprocessEvent } from '../../events/process';
import { EVENT_OUTCOMES, isEventOutcome, REOPENABLE_OUTCOMES } from '../../events/outcome';
import { Badge } from '../components/badge';
import { ChoiceFilter, DateRangeFilter } from '../components/filters';
import { Pager } from '../components/pager';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { listWindow } from '../parameters';
import { PAGE_SIZE } from '../queries/paging';
import { findEvent, listEvents, recentRejections } from '../queries/events';
import { page } from '../render';

/** At most this many events are replayed by one click. */
const MAX_REPLAY = PAGE_SIZE;

const isReopenable = (outcome: string) => (REOPENABLE_OUTCOMES as readonly string[]).includes(outcome);

type ReplayLine = { id: number; text: string; tone: 'ok' | 'bad' };

const ReplayResult: FC<{ lines: ReplayLine[] }> = ({ lines }) => (
  <div id="replay-result" role="status">
    {lines.map((line) => (
      <p class={`notice ${line.tone}`} data-event={String(line.id)}>
        {line.text}
      </p>
    ))}
  </div>
);

async function replay(context: DashboardContext, ids: number[], operator: Operator): Promise<ReplayLine[]> {
  const lines: ReplayLine[] = [];
  // One after the other: each is a transaction of its own, and replays are rare.
  for (const id of ids) {
    try {
      const result = await reprocessEvent(context.events, id, operatorActor(operator));
      lines.push(
        result.rerun
          ? { id, text: `Event ${id} replayed: ${result.outcome}.`, tone: result.outcome === 'failed' ? 'bad' : 'ok' }
          : { id, text: `Event ${id} is ${result.outcome}: nothing to do.`, tone: 'ok' },
      );
    } catch (error) {
      if (!(error instanceof EventNotFound)) context.log.error({ eventId: id, error: error instanceof Error ? error.message : String(error) }, 'replay failed');
      lines.push({ id, text: `Event ${id} could not be replayed: ${error instanceof EventNotFound ? 'no such event' : 'it failed again, see its error'}.`, tone: 'bad' });
    }
  }
  context.log.info({ operatorId: operator.id, events: ids }, 'events replayed by an operator');
  return lines;
}

function idsOf(value: unknown): number[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return [...new Set(values.map(Number).filter((id) => Number.isSafeInteger(id) && id > 0))];
}

async function replayRoute(c: Context, context: DashboardContext) {
  const ids = idsOf((await c.req.parseBody({ all: true })).id);
  if (ids.length === 0) return c.html(<ReplayResult lines={[{ id: 0, text: 'Select the events to replay.', tone: 'bad' }]} />, 422);
  if (ids.length > MAX_REPLAY) return c.html(<ReplayResult lines={[{ id: 0, text: `Replay at most ${MAX_REPLAY} events at once.`, tone: 'bad' }]} />, 422);
  return c.html(<ReplayResult lines={await replay(context, ids, c.get('operator'))} />);
}

export function eventPages(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/events', async (c) => {
      const query = c.req.query();
      const outcome = query.outcome && isEventOutcome(query.outcome) ? query.outcome : undefined;
      const rejections = await recentRejections(context.db);
      const rows = await listEvents(context.db, {
        outcome,
        transactionType: query.type || undefined,
        id: query.id?.trim() || undefined,
        ...listWindow(query),
      });
      return page(
        c,
        'EMP events',
        '/dashboard/events',
        <>
          <p>
            The audit log of every EMP notification the backend recorded, and of EMP's answers that changed an attempt. A
            notification changes nothing by itself: it is confirmed with EMP first (confirmed, contradicted or rejected).
            Deliveries QStash gave up on are in the <a href="/dashboard/events/dead-letters">dead-letter queue</a>.
          </p>
          {rejections.length > 0 ? (
            <p class="notice bad" role="alert">
              {rejections.reduce((sum, rejection) => sum + rejection.count, 0)} notifications rejected in the last 24 hours (
              {rejections.map((rejection) => `${rejection.reason} ${rejection.count}`).join(', ')}): EMP did not confirm them and
              nothing changed. A burst points at a replayed or forged notification. <a href="/dashboard/events?outcome=rejected">Show them</a>.
            </p>
          ) : null}
          <form class="filters" method="get">
            <ChoiceFilter label="Outcome" name="outcome" options={EVENT_OUTCOMES} selected={outcome} />
            <label>
              Transaction type
              <input name="type" value={query.type ?? ''} placeholder="sdd_sale, chargeback…" />
            </label>
            <label>
              unique_id, transaction_id or dedup key
              <input name="id" value={query.id ?? ''} size={30} />
            </label>
            <DateRangeFilter label="Received from" from={query.from} to={query.to} />
            <button type="submit">Filter</button>
          </form>
          <form hx-post="/dashboard/events/replay" hx-target="#replay-result" hx-swap="outerHTML">
            <div id="replay-result"></div>
            <table>
              <tr>
                <th></th>
                <th>id</th>
                <th>received</th>
                <th>type</th>
                <th>EMP status</th>
                <th>outcome</th>
                <th>attempt</th>
                <th class="num">tries</th>
                <th>error</th>
              </tr>
              {rows.map((event) => (
                <tr>
                  <td>{isReopenable(event.outcome) ? <input type="checkbox" name="id" value={String(event.id)} aria-label={`Select event ${event.id}`} /> : null}</td>
                  <td>
                    <a href={`/dashboard/events/${event.id}`}>{event.id}</a>
                  </td>
                  <td>{formatTime(event.receivedAt)}</td>
                  <td>{event.transactionType ?? ''}</td>
                  <td>{event.empStatus ?? ''}</td>
                  <td>
                    <Badge value={event.outcome} />
                  </td>
                  <td>{event.billingAttemptId ? <a href={`/dashboard/attempts/${event.billingAttemptId}`}>{event.billingAttemptId}</a> : ''}</td>
                  <td class="num">{event.attempts}</td>
                  <td>{event.error ?? ''}</td>
                </tr>
              ))}
            </table>
            {rows.length === 0 ? <p class="empty">No events match.</p> : null}
            {operatorMay(c, 'operate') && rows.some((event) => isReopenable(event.outcome)) ? (
              <p>
                <button type="submit">Replay selected</button> <small>Only pending_match and failed events can change; the others are final.</small>
              </p>
            ) : null}
          </form>
          <Pager
            path="/dashboard/events"
            query={{ outcome, type: query.type, id: query.id, from: query.from, to: query.to }}
            before={rows.length === PAGE_SIZE ? rows.at(-1)!.id : undefined}
          />
        </>,
      );
    })
    .post('/dashboard/events/replay', (c) => replayRoute(c, context))
    .get('/dashboard/events/:id{[0-9]+}', async (c) => {
      const event = await findEvent(context.db, Number(c.req.param('id')));
      if (!event) return page(c, 'Event not found', '/dashboard/events', <p>No such event.</p>, 404);
      return page(
        c,
        `EMP event ${event.id}`,
        '/dashboard/events',
        <>
          <div class="panel">
            <p>
              <Badge value={event.outcome} /> {event.transactionType} {event.empStatus} · received {formatTime(event.receivedAt)} · processed{' '}
              {formatTime(event.processedAt) || 'not yet'} · {event.attempts} tries
              {event.billingAttemptId ? (
                <>
                  {' · '}
                  <a href={`/dashboard/attempts/${event.billingAttemptId}`}>attempt {event.billingAttemptId}</a>
                </>
              ) : null}
            </p>
            {event.error ? <p class="notice bad">{event.error}</p> : null}
            <p class="mono">dedup key {event.dedupKey}</p>
            {operatorMay(c, 'operate') && isReopenable(event.outcome) ? (
              <form hx-post="/dashboard/events/replay" hx-target="#replay-result" hx-swap="outerHTML">
                <input type="hidden" name="id" value={String(event.id)} />
                <button type="submit">Replay</button>
                <div id="replay-result"></div>
              </form>
            ) : null}
          </div>
          <h2>Payload (personal data masked)</h2>
          <pre>{JSON.stringify(maskPersonalData(event.payload), null, 2)}</pre>
        </>,
      );
    });
}
