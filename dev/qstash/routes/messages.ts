/** GET /v2/messages/{id}, DELETE /v2/messages/{id} and bulk DELETE /v2/messages. */
import { notFound } from '../api-error';
import { cancelMessages, findMessage } from '../message-store';
import { messageView } from '../views';
import { queryNumber, queryValues, type ApiContext } from './context';

export async function getMessage(_request: Request, context: ApiContext, [messageId]: string[]) {
  const message = await findMessage(context.pool, messageId!);
  if (!message) throw notFound(`message ${messageId} not found`);
  return Response.json(messageView(message));
}

export async function cancelMessage(_request: Request, context: ApiContext, [messageId]: string[]) {
  const cancelled = await cancelMessages(context.pool, { messageIds: [messageId!] });
  if (cancelled === 0) throw notFound(`message ${messageId} not found`);
  return Response.json({ cancelled }, { status: 202 });
}

export async function cancelMany(request: Request, context: ApiContext) {
  const url = new URL(request.url);
  const messageIds = queryValues(url, 'messageIds');
  const cancelled = await cancelMessages(
    context.pool,
    messageIds
      ? { messageIds }
      : {
          url: queryValues(url, 'url', { commaSeparated: false }),
          queueName: queryValues(url, 'queueName'),
          flowControlKey: queryValues(url, 'flowControlKey'),
          scheduleId: queryValues(url, 'scheduleId'),
          label: queryValues(url, 'label'),
          fromDate: queryNumber(url, 'fromDate'),
          toDate: queryNumber(url, 'toDate'),
        },
  );
  return Response.json({ cancelled }, { status: 202 });
}
