/**
 * Caps on request bodies, in front of every route (app.ts, before the session check, which may
 * read a form's CSRF field): no handler ever reads more than a small body, and one that would
 * be larger is refused before a byte of it reaches a handler. Without them a QStash route read
 * the whole body before checking its signature, and anyone could make a node buffer gigabytes.
 *
 * A body announced larger than its cap (Content-Length) is refused unread; a streamed one is
 * refused as soon as it passes the cap. The 413 closes the connection: the rest of the body is
 * not read, so the connection cannot carry another request, and a browser told so opens a new
 * one for its next request instead of failing on a connection cut under it.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PREVIEW_BYTES } from '../dashboard/column-preview';

const KiB = 1024;

/**
 * Everything not listed below: the API's JSON and the dashboard's forms are a few KiB (the
 * largest, a replay of many events or dead letters, a few dozen ids), and QStash's deliveries
 * (/qstash/*) are a message of ids or one forwarded EMP event, which the edge caps at 16 KiB.
 */
export const DEFAULT_BODY_CAP = 64 * KiB;

/** Routes that need another cap than the default, by exact path. */
const BODY_CAPS: Readonly<Record<string, number>> = {
  // An email (254), a password (1024), next= and the CSRF token, with room for encoding.
  '/login': 4 * KiB,
  // The first bytes of a CSV, for its header row.
  '/dashboard/uploads/columns': PREVIEW_BYTES,
};

/**
 * PUT /uploads/:id/content streams a debtor file (up to UPLOAD_MAX_CSV_BYTES) into storage,
 * never whole in memory, and cuts it off past the upload's own cap (uploads/lifecycle.ts); a
 * refusal there closes the connection as the 413 above does (capRequestBodies). Only
 * a raw body: a form body would be parsed whole for its CSRF field (auth/csrf.ts), so it is capped.
 */
const STREAMED_TO_STORAGE = /^\/uploads\/[^/]+\/content$/;
const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i;

/** The cap of a request's body; undefined for the one route that streams and caps its body itself. */
export function bodyCapOf(request: { method: string; path: string; contentType?: string }): number | undefined {
  if (request.method === 'PUT' && STREAMED_TO_STORAGE.test(request.path) && !FORM.test(request.contentType ?? '')) return undefined;
  return BODY_CAPS[request.path] ?? DEFAULT_BODY_CAP;
}

export function capRequestBodies(): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>();
  const limiterOf = (maxSize: number) => {
    let limiter = limiters.get(maxSize);
    if (!limiter) {
      limiter = bodyLimit({
        maxSize,
        onError: (c) => {
          c.header('Connection', 'close');
          return c.json({ error: `request body too large: at most ${maxSize} bytes` }, 413);
        },
      });
      limiters.set(maxSize, limiter);
    }
    return limiter;
  };
  return async (c, next) => {
    const cap = bodyCapOf({ method: c.req.method, path: c.req.path, contentType: c.req.header('content-type') });
    if (cap !== undefined) return limiterOf(cap)(c, next);
    await next();
    // The streamed file refused (over the upload's cap, announced or sent; no such upload; not
    // logged in) is left unread, and the server drops the connection after answering: said so,
    // a client opens a new one for its next request instead of sending it on a dead socket
    // ("other side closed"). An accepted file was read to its end.
    if (c.res.status >= 400) c.header('Connection', 'close');
  };
}
