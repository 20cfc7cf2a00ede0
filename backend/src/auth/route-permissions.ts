/**
 * Who may use each route (issue 17): every route the app registers, by method and Hono path
 * (as `app.routes` lists them), names the permission it needs (shared/src/roles.ts), or `public`
 * for the few that need no session (auth/middleware.ts `isPublic`). `enforceRoutePermissions`
 * runs in front of every route, after the session check, and answers 403 to an operator whose
 * role lacks the permission. A route missing here is refused to everyone (and logged), and
 * backend/test/route-permissions.test.ts, which enumerates the app's routes, fails for it: a new
 * route cannot ship without a rule.
 *
 * Reading is `read`, searching too (the search forms are posts only to keep IBANs out of URLs).
 * Changing collection state is `operate`; so is downloading an upload's original file or error
 * report, which carry whole IBANs and names that no page shows. Managing operators and lifting a
 * compliance blacklist entry is `administer`.
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Permission } from '@tether/shared/roles';
import type { Logger } from '../log';
import { operatorMay, refuseForRole } from './permissions';

export type RouteRule = Permission | 'public';

export const ROUTE_PERMISSIONS: Readonly<Record<string, RouteRule>> = {
  // Without a session (auth/middleware.ts isPublic).
  'GET /health': 'public',
  'GET /metrics': 'public',
  'GET /assets/:name': 'public',
  'GET /login': 'public',
  'POST /login': 'public',
  // QStash's deliveries: signed by QStash, not an operator's.
  'POST /qstash/emp-events': 'public',
  'POST /qstash/uploads/process': 'public',
  'POST /qstash/billing/batch': 'public',
  'POST /qstash/reconciliation': 'public',
  'POST /qstash/vop/check': 'public',
  'POST /qstash/probe': 'public',
  'POST /qstash/billing/scheduled-start': 'public',
  'POST /qstash/retention-sweep': 'public',

  'POST /logout': 'read',
  'GET /': 'read',
  'GET /dashboard': 'read',
  'GET /dashboard/status/live': 'read',

  // Uploads: the JSON API and the pages.
  'POST /uploads': 'operate',
  'PUT /uploads/:id/content': 'operate',
  'POST /uploads/:id/complete': 'operate',
  'GET /uploads': 'read',
  'GET /uploads/:id': 'read',
  'GET /uploads/:id/file': 'operate',
  'GET /uploads/:id/error-report': 'operate',
  'GET /dashboard/uploads': 'read',
  'GET /dashboard/uploads/new': 'operate',
  'POST /dashboard/uploads/columns': 'operate',
  'GET /dashboard/uploads/:id': 'read',
  'GET /dashboard/uploads/:id/progress': 'read',
  'GET /dashboard/uploads/:id/file': 'operate',
  'GET /dashboard/uploads/:id/error-report': 'operate',
  'POST /dashboard/uploads/:id/reprocess': 'operate',
  'POST /dashboard/uploads/:id/withdraw': 'operate',

  'GET /dashboard/debtors': 'read',
  'POST /dashboard/debtors/search': 'read',
  'GET /dashboard/attempts': 'read',
  'GET /dashboard/attempts/:id': 'read',
  'POST /dashboard/attempts/:id/refunds': 'operate',

  // Billing: the JSON API and the pages.
  'POST /billing/runs': 'operate',
  'GET /billing/runs': 'read',
  'GET /billing/runs/:id': 'read',
  'POST /billing/runs/:id/pause': 'operate',
  'POST /billing/runs/:id/resume': 'operate',
  'POST /billing/runs/:id/cancel': 'operate',
  'POST /billing/runs/scheduled': 'operate',
  'POST /billing/runs/:id/reschedule': 'operate',
  'POST /billing/runs/:id/unschedule': 'operate',
  'POST /billing/attempts/:id/release': 'operate',
  'POST /reconciliation/runs': 'operate',
  'GET /dashboard/runs': 'read',
  'POST /dashboard/runs': 'operate',
  'GET /dashboard/runs/:id': 'read',
  'GET /dashboard/runs/:id/live': 'read',
  'POST /dashboard/runs/:id/pause': 'operate',
  'POST /dashboard/runs/:id/resume': 'operate',
  'POST /dashboard/runs/:id/cancel': 'operate',

  'GET /dashboard/blacklist': 'read',
  'POST /dashboard/blacklist/search': 'read',
  'POST /dashboard/blacklist': 'operate',
  'POST /dashboard/blacklist/:id/remove': 'operate',
  'POST /dashboard/blacklist/:id/lift': 'administer',

  'GET /dashboard/events': 'read',
  'POST /dashboard/events/replay': 'operate',
  'GET /dashboard/events/:id{[0-9]+}': 'read',
  'GET /dashboard/events/dead-letters': 'read',
  'POST /dashboard/events/dead-letters/replay': 'operate',

  'GET /dashboard/review': 'read',
  'POST /dashboard/review/:queue/:id{[0-9]+}/dismiss': 'operate',
  'POST /dashboard/review/:queue/:id{[0-9]+}/blacklist': 'operate',
  'POST /dashboard/review/:queue/:id{[0-9]+}/reconcile': 'operate',
  'POST /dashboard/review/:queue/:id{[0-9]+}/replay': 'operate',

  // Personal data: retention settings and erasure are an admin's (issue 17).
  'GET /dashboard/personal-data': 'read',
  'POST /dashboard/personal-data/retention': 'administer',
  'POST /dashboard/personal-data/erase': 'administer',

  // Finance reports and exports: read-only, for every role (issue 18).
  'GET /dashboard/reports': 'read',
  'GET /dashboard/reports/figures.csv': 'read',
  'GET /dashboard/reports/attempts.csv': 'read',

  'GET /dashboard/audit': 'read',
  'GET /dashboard/audit/export.csv': 'read',

  'GET /dashboard/operators': 'administer',
  'POST /dashboard/operators': 'administer',
  'POST /dashboard/operators/:id/disable': 'administer',
  'POST /dashboard/operators/:id/enable': 'administer',
  'POST /dashboard/operators/:id/role': 'administer',
};

/** How a route is named in ROUTE_PERMISSIONS. */
export const routeKey = (method: string, path: string) => `${method} ${path}`;

/**
 * The rule of the route that answers: the first matched route registered for a method (middleware
 * is registered for ALL). Undefined when no route matches (a 404 follows); null when one matches
 * that has no rule.
 */
function ruleOfAnswering(routes: ReturnType<typeof matchedRoutes>): RouteRule | null | undefined {
  const answering = routes.find((route) => route.method !== 'ALL');
  if (!answering) return undefined;
  return ROUTE_PERMISSIONS[routeKey(answering.method, answering.path)] ?? null;
}

export function enforceRoutePermissions(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const rule = ruleOfAnswering(matchedRoutes(c));
    if (rule === undefined || rule === 'public') return next();
    if (rule === null) {
      log.error({ method: c.req.method, path: c.req.path }, 'request refused: the route has no rule in auth/route-permissions.ts');
      return c.json({ error: 'this route has no permission rule' }, 403);
    }
    return operatorMay(c, rule) ? next() : refuseForRole(c, rule);
  };
}
