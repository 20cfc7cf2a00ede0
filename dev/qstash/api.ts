/**
 * The HTTP API: bearer-token check, routing and error bodies. Destinations travel in the path
 * ("/v2/publish/https://host/path?query"), so routing reads the raw path instead of a router's
 * decoded segments, and a destination keeps its own query string.
 */
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from './api-error';
import type { ApiContext, RouteHandler } from './routes/context';
import { deleteDlqMessage, deleteDlqMessages, getDlqMessage, listDlqMessages, retryDlqMessage, retryDlqMessages } from './routes/dlq';
import { getFlowControl } from './routes/flow-control';
import { cancelMany, cancelMessage, getMessage } from './routes/messages';
import { batch, publish } from './routes/publish';
import { deleteQueue, getQueue, listQueues, pauseOrResumeQueue, upsertQueue } from './routes/queues';
import { createSchedule, deleteSchedule, getSchedule, listSchedules, pauseOrResumeSchedule } from './routes/schedules';

type Route = [method: string, path: RegExp, handler: RouteHandler];

const SEGMENT = '([^/]+)';

// Ordered: the first match wins. Paths carrying a destination capture "everything after".
const ROUTES: Route[] = [
  ['POST', /^\/v2\/publish\/(.+)$/s, (request, context, [destination]) => publish(request, context, destination!)],
  ['POST', new RegExp(`^/v2/enqueue/${SEGMENT}/(.+)$`, 's'), (request, context, [queue, destination]) =>
    publish(request, context, destination!, queue!)],
  ['POST', /^\/v2\/batch$/, batch],
  ['GET', new RegExp(`^/v2/messages/${SEGMENT}$`), getMessage],
  ['DELETE', new RegExp(`^/v2/messages/${SEGMENT}$`), cancelMessage],
  ['DELETE', /^\/v2\/messages$/, cancelMany],
  ['GET', /^\/v2\/dlq$/, listDlqMessages],
  ['DELETE', /^\/v2\/dlq$/, deleteDlqMessages],
  ['POST', /^\/v2\/dlq\/retry$/, retryDlqMessages],
  ['POST', new RegExp(`^/v2/dlq/retry/${SEGMENT}$`), retryDlqMessage],
  ['GET', new RegExp(`^/v2/dlq/${SEGMENT}$`), getDlqMessage],
  ['DELETE', new RegExp(`^/v2/dlq/${SEGMENT}$`), deleteDlqMessage],
  ['POST', /^\/v2\/schedules\/(https?:.+)$/s, (request, context, [destination]) => createSchedule(request, context, destination!)],
  ['GET', /^\/v2\/schedules$/, listSchedules],
  ['GET', new RegExp(`^/v2/schedules/${SEGMENT}$`), getSchedule],
  ['DELETE', new RegExp(`^/v2/schedules/${SEGMENT}$`), deleteSchedule],
  // The official client pauses and resumes schedules with PATCH; the REST reference says POST.
  ['PATCH', new RegExp(`^/v2/schedules/${SEGMENT}/pause$`), pauseOrResumeSchedule(true)],
  ['POST', new RegExp(`^/v2/schedules/${SEGMENT}/pause$`), pauseOrResumeSchedule(true)],
  ['PATCH', new RegExp(`^/v2/schedules/${SEGMENT}/resume$`), pauseOrResumeSchedule(false)],
  ['POST', new RegExp(`^/v2/schedules/${SEGMENT}/resume$`), pauseOrResumeSchedule(false)],
  ['POST', /^\/v2\/queues$/, upsertQueue],
  ['GET', /^\/v2\/queues$/, listQueues],
  ['GET', new RegExp(`^/v2/queues/${SEGMENT}$`), getQueue],
  ['DELETE', new RegExp(`^/v2/queues/${SEGMENT}$`), deleteQueue],
  ['POST', new RegExp(`^/v2/queues/${SEGMENT}/pause$`), pauseOrResumeQueue(true)],
  ['POST', new RegExp(`^/v2/queues/${SEGMENT}/resume$`), pauseOrResumeQueue(false)],
  ['GET', new RegExp(`^/v2/flowControl/${SEGMENT}$`), getFlowControl],
  ['GET', /^\/v2\/keys$/, async (_request, context) => Response.json(context.signingKeys)],
];

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token from "Authorization: Bearer …" or, as QStash also allows, the qstash_token query parameter. */
function presentedToken(request: Request, url: URL): string | null {
  const authorization = request.headers.get('authorization');
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  return url.searchParams.get('qstash_token');
}

/** The path and, for paths carrying a destination, that destination's query string. */
function routedPath(url: URL): string {
  if (!/^\/v2\/(publish|enqueue|schedules)\//.test(url.pathname)) return url.pathname;
  if (!url.searchParams.has('qstash_token')) return url.pathname + url.search;
  const search = new URLSearchParams(url.search);
  search.delete('qstash_token');
  return url.pathname + (search.size > 0 ? `?${search}` : '');
}

export function createApi(context: ApiContext, token: string, onError: (error: unknown) => void) {
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const presented = presentedToken(request, url);
    if (presented === null || !sameSecret(presented, token)) {
      return Response.json({ error: 'Unauthorized' }, { status: 401 });
    }
    const path = routedPath(url);
    try {
      for (const [method, pattern, handler] of ROUTES) {
        const match = request.method === method ? pattern.exec(path) : null;
        if (match) return await handler(request, context, match.slice(1).map(decodeSegment));
      }
      return Response.json({ error: `no route for ${request.method} ${url.pathname}` }, { status: 404 });
    } catch (error) {
      if (error instanceof ApiError) return error.toResponse();
      onError(error);
      return Response.json({ error: 'internal error' }, { status: 500 });
    }
  };
}

/** Ids and names are percent-decoded; a destination URL (it contains "://") is taken as written. */
function decodeSegment(segment: string): string {
  if (segment.includes('://') || /^https?:/.test(segment)) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
