/**
 * The session requirement, in front of every route: a request without a live session gets a
 * redirect to /login (a page in a browser), an HX-Redirect (htmx) or 401 JSON (anything else),
 * and a state-changing request without the session's CSRF token gets 403. Only the paths in
 * `isPublic` pass without a session: new routes are protected without anyone having to remember.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { carriesWholeIban } from '../http/iban-in-url';
import type { AuthContext } from './context';
import { readSessionCookie } from './cookies';
import { isStateChanging, submittedToken, tokensMatch } from './csrf';
import type { Operator } from './operators';
import { resumeSession } from './sessions';

declare module 'hono' {
  interface ContextVariableMap {
    /** The logged-in operator, on every route behind requireOperator. */
    operator: Operator;
    /** The session's CSRF token, for forms and the page's htmx headers. */
    csrfToken: string;
  }
}

export const LOGIN_PATH = '/login';

/**
 * Open without a session: the log-in page, its static assets, the load balancer's /health,
 * Prometheus' /metrics (counts only, and kept off the public load balancer; see README), and
 * QStash's deliveries (/qstash/*, which carry QStash's signature instead).
 */
export function isPublic(path: string): boolean {
  return (
    path === LOGIN_PATH ||
    path === '/health' ||
    path === '/metrics' ||
    path.startsWith('/qstash/') ||
    path.startsWith('/assets/')
  );
}

function wantsPage(c: Context): boolean {
  return ['GET', 'HEAD'].includes(c.req.method) && (c.req.header('accept') ?? '').includes('text/html');
}

function refuse(c: Context) {
  if (c.req.header('hx-request')) {
    c.header('HX-Redirect', LOGIN_PATH);
    return c.json({ error: 'not logged in' }, 401);
  }
  if (wantsPage(c)) {
    const url = new URL(c.req.url);
    // The page to come back to, without a query that carries an IBAN: this URL goes into logs.
    const back = carriesWholeIban(url.search) ? url.pathname : url.pathname + url.search;
    return c.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(back)}`, 303);
  }
  return c.json({ error: 'not logged in' }, 401);
}

export function requireOperator(context: AuthContext): MiddlewareHandler {
  const policy = { idleSeconds: context.settings.sessionIdleSeconds, maxAgeSeconds: context.settings.sessionMaxAgeSeconds };
  return async (c, next) => {
    if (isPublic(c.req.path)) return next();
    const token = readSessionCookie(c, context.settings);
    const session = token ? await resumeSession(context.db, token, policy) : undefined;
    if (!session) return refuse(c);
    if (isStateChanging(c.req.method) && !tokensMatch(session.csrfToken, await submittedToken(c))) {
      context.log.warn({ operatorId: session.operator.id, method: c.req.method, path: c.req.path }, 'request refused: CSRF token missing or wrong');
      return c.json({ error: 'CSRF token missing or wrong: reload the page' }, 403);
    }
    c.set('operator', session.operator);
    c.set('csrfToken', session.csrfToken);
    return next();
  };
}
