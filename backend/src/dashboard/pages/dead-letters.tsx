/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * GET /dashboard/events/dead-letters: the deliveries QStash gave up on (its dead-letter queue),
 * and sending one or many again. A resent EMP event is applied exactly once however often it
 * arrives (events/process.ts), so a replay can never apply an event twice.
 */
import { maskIbansInText } from '@tether/shared/mask';
import { QstashError } from '@upstash/qstash';
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { DashboardContext } from '../context';
import { formatTime } from '../format';
import { page } from '../render';
import { operatorActor } from '../../audit/actor';
import { operatorMay } from '../../auth/permissions';
import { dedupKeyOfDeadLetter } from '../../events/dead-letter-body';
import { resendDeadLetters } from '../../events/dead-letter-resend';

const PAGE = 100;


const Result: FC<{ text: string; tone: 'ok' | 'bad' }> = ({ text, tone }) => (
  <div id="dlq-result" role="status">
    <p class={`notice ${tone}`}>{text}</p>
  </div>
);

export function deadLetterPage(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/events/dead-letters', async (c) => {
      const { messages, cursor } = await context.qstash.dlq.listMessages({ count: PAGE, cursor: c.req.query('cursor') || undefined });
      return page(
        c,
        'Dead-lettered deliveries',
        '/dashboard/events',
        <>
          <p>
            QStash moves a delivery here when the backend refused it for good or did not answer through all its retries. Sending it again delivers
            it once more to the same address.
          </p>
          <form hx-post="/dashboard/events/dead-letters/replay" hx-target="#dlq-result" hx-swap="outerHTML">
            <div id="dlq-result"></div>
            <table>
              <tr>
                <th></th>
                <th>dead-lettered</th>
                <th>to</th>
                <th>last answer</th>
                <th>EMP event</th>
                <th>message</th>
              </tr>
              {messages.map((message) => (
                <tr data-dlq-id={message.dlqId}>
                  <td>
                    <input type="checkbox" name="dlqId" value={message.dlqId} aria-label={`Select ${message.messageId}`} />
                  </td>
                  <td>{formatTime(new Date(message.createdAt))}</td>
                  <td class="mono">{message.url ? new URL(message.url).pathname : ''}</td>
                  <td>
                    {message.responseStatus ?? ''} <small>{maskIbansInText((message.responseBody ?? '').slice(0, 200))}</small>
                  </td>
                  <td class="mono">{dedupKeyOfDeadLetter(message.body) ?? ''}</td>
                  <td class="mono">{message.messageId}</td>
                </tr>
              ))}
            </table>
            {messages.length === 0 ? <p class="empty">The dead-letter queue is empty.</p> : <p hidden={!operatorMay(c, 'operate')}><button type="submit">Send selected again</button></p>}
          </form>
          {cursor ? (
            <div class="pager">
              <a href={`/dashboard/events/dead-letters?cursor=${encodeURIComponent(cursor)}`}>More →</a>
            </div>
          ) : null}
        </>,
      );
    })
    .post('/dashboard/events/dead-letters/replay', async (c) => {
      const selected = (await c.req.parseBody({ all: true })).dlqId;
      const ids = [...new Set((Array.isArray(selected) ? selected : selected === undefined ? [] : [selected]).filter((id): id is string => typeof id === 'string' && id.length > 0))];
      if (ids.length === 0) return c.html(<Result text="Select the deliveries to send again." tone="bad" />, 422);
      let resent: string[];
      try {
        resent = await resendDeadLetters(context.qstash, context.db, ids, operatorActor(c.get('operator')));
      } catch (error) {
        // QStash refuses the whole request when an id is unknown (another operator sent it already).
        if (!(error instanceof QstashError)) throw error;
        return c.html(<Result text={`QStash refused: ${error.message}. Reload to see what is left.`} tone="bad" />, 422);
      }
      context.log.info({ operatorId: c.get('operator').id, dlqIds: ids, resent: resent.length }, 'dead letters sent again by an operator');
      const missing = ids.length - resent.length;
      return c.html(
        <Result
          text={`${resent.length} sent again${missing > 0 ? `; ${missing} were no longer in the dead-letter queue` : ''}. Reload to see what is left.`}
          tone={missing > 0 ? 'bad' : 'ok'}
        />,
      );
    });
}
