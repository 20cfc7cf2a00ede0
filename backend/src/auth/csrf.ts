/**
 * CSRF tokens. Every state-changing request made with a session cookie must carry the session's
 * token, in the X-CSRF-Token header (htmx and the page scripts) or the _csrf form field (plain
 * forms): another site can make a browser send the cookie, but cannot read the token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

export function isStateChanging(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

export function tokensMatch(expected: string, submitted: string | undefined): boolean {
  if (submitted === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token the request carries. A form body is parsed (Hono keeps it for the handler); no other body is read. */
export async function submittedToken(c: Context): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) return undefined;
  const field = (await c.req.parseBody())[CSRF_FIELD];
  return typeof field === 'string' ? field : undefined;
}
