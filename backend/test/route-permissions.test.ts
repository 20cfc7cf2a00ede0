/**
 * Every route against every role (issue 17), driven by the app's own list of routes: a route
 * registered without a rule in auth/route-permissions.ts fails here, a rule for a route that no
 * longer exists fails too, and each route is requested with a real session of a viewer, an
 * operator and an admin against a real database, expecting 403 exactly where the role lacks the
 * route's permission. Public routes must answer without a session.
 */
import { PERMISSIONS, ROLES, roleAllows, type Role } from '@tether/shared/roles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublic } from '../src/auth/middleware';
import { ROUTE_PERMISSIONS, routeKey } from '../src/auth/route-permissions';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { createTestOperator, logIn, type SessionClient } from './support/operators';

let database: MigratedTestDatabase;
let node: DashboardNode;
const sessions = {} as Record<Role, SessionClient>;

beforeAll(async () => {
  database = await createMigratedDatabase();
  node = await startDashboardNode(database.url);
  for (const role of ROLES) sessions[role] = await logIn(node.url, await createTestOperator(database.db, `${role}@tether.test`, role));
}, 60_000);
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

/** The routes the app answers (middleware is registered for ALL), each once. */
function registeredRoutes(): Array<{ method: string; path: string }> {
  const seen = new Map<string, { method: string; path: string }>();
  for (const route of node.app.routes) if (route.method !== 'ALL') seen.set(routeKey(route.method, route.path), { method: route.method, path: route.path });
  return [...seen.values()];
}

/**
 * A URL for a route's path: parameters get a value no row has (ids) or a real asset, so a
 * permitted request is answered by the route (404, 400, 422...) and changes nothing.
 */
function concrete(path: string): string {
  return path.replace(/:name$/, 'dashboard.css').replace(/:id(\{[^}]*\})?/g, '999999');
}

describe('the route table', () => {
  it('has a rule for every route the app registers, and none for a route it does not', () => {
    const registered = registeredRoutes().map((route) => routeKey(route.method, route.path));
    expect(registered.length).toBeGreaterThan(40);
    expect(registered.filter((key) => !(key in ROUTE_PERMISSIONS))).toEqual([]);
    expect(Object.keys(ROUTE_PERMISSIONS).filter((key) => !registered.includes(key))).toEqual([]);
    for (const rule of Object.values(ROUTE_PERMISSIONS)) expect([...PERMISSIONS, 'public']).toContain(rule);
  });

  it('marks public exactly the routes the session check lets through', () => {
    for (const { method, path } of registeredRoutes()) {
      expect({ route: routeKey(method, path), public: isPublic(concrete(path)) }).toEqual({ route: routeKey(method, path), public: ROUTE_PERMISSIONS[routeKey(method, path)] === 'public' });
    }
  });
});

describe('every route, every role', () => {
  it('answers public routes without a session', async () => {
    for (const { method, path } of registeredRoutes().filter((route) => ROUTE_PERMISSIONS[routeKey(route.method, route.path)] === 'public')) {
      const response = await fetch(`${node.url}${concrete(path)}`, { method, redirect: 'manual', body: method === 'GET' ? undefined : '{}' });
      // QStash's routes refuse an unsigned request (401), the log-in one without its form token (403), but neither for want of a session or role.
      const body = await response.text();
      expect({ route: routeKey(method, path), sessionRefused: body.includes('not logged in') || body.includes('may not do this') }).toEqual({
        route: routeKey(method, path),
        sessionRefused: false,
      });
    }
  });

  // Log-out ends the session: it goes last.
  const byLogoutLast = (a: { path: string }, b: { path: string }) => Number(a.path === '/logout') - Number(b.path === '/logout');

  for (const role of ROLES) {
    it(`refuses a ${role} exactly what the role may not do`, async () => {
      const checked: string[] = [];
      for (const { method, path } of registeredRoutes().sort(byLogoutLast)) {
        const rule = ROUTE_PERMISSIONS[routeKey(method, path)]!;
        if (rule === 'public') continue;
        const response = await sessions[role].fetch(concrete(path), {
          method,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: method === 'GET' ? undefined : '[]',
        });
        const body = await response.text();
        const refused = response.status === 403;
        expect({ route: routeKey(method, path), refused }).toEqual({ route: routeKey(method, path), refused: !roleAllows(role, rule) });
        if (refused) expect(JSON.parse(body).error).toBe(`your role (${role}) may not do this: it needs the ${rule} permission`);
        checked.push(routeKey(method, path));
      }
      expect(checked).toContain('POST /dashboard/operators/:id/disable');
    }, 120_000);
  }
});
