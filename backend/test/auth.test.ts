/**
 * Operators' log-in over plain HTTP: the session requirement on every route but the public
 * ones, lock-out after repeated failures (in the database: another node sees it), CSRF on the
 * log-in form and on every state-changing request, session expiry and log-out, cookie flags.
 */
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { loginFailureEvents, operatorSessions } from '../src/db/schema';
import { createServices } from '../src/services';
import { backendEnvironment } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { cookieHeader, cookiesOf, createTestOperator, logIn, submitLogin } from './support/operators';

let database: MigratedTestDatabase;
let node: DashboardNode;
let otherNode: DashboardNode;

beforeAll(async () => {
  database = await createMigratedDatabase();
  [node, otherNode] = await Promise.all([
    startDashboardNode(database.url, { LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT: '600' }),
    startDashboardNode(database.url, { LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT: '600' }),
  ]);
});
afterAll(async () => {
  await node?.close();
  await otherNode?.close();
  await database?.destroy();
});

describe('without a session', () => {
  it('refuses pages with a redirect to the log-in, and API routes with 401 JSON', async () => {
    const page = await fetch(`${node.url}/dashboard/debtors?q=x`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fdashboard%2Fdebtors%3Fq%3Dx');

    for (const [method, path] of [['GET', '/uploads'], ['POST', '/uploads'], ['GET', '/dashboard'], ['POST', '/logout'], ['GET', '/nope']]) {
      const response = await fetch(`${node.url}${path}`, { method, redirect: 'manual' });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(await response.json()).toEqual({ error: 'not logged in' });
    }

    const htmx = await fetch(`${node.url}/dashboard/status/live`, { headers: { 'hx-request': 'true', accept: 'text/html' } });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get('hx-redirect')).toBe('/login');
  });

  it('serves /health, /metrics, the log-in page, its assets and QStash deliveries (which check their own signature)', async () => {
    expect([200, 503]).toContain((await fetch(`${node.url}/health`)).status);
    expect((await fetch(`${node.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${node.url}/login`)).status).toBe(200);
    const htmx = await fetch(`${node.url}/assets/htmx.min.js`);
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get('content-type')).toContain('javascript');
    const delivery = await fetch(`${node.url}/qstash/emp-events`, { method: 'POST', body: '{}' });
    expect(delivery.status).toBe(401);
    expect(await delivery.json()).toEqual({ error: 'invalid signature' });
  });
});

describe('logging in', () => {
  it('opens a session with an HttpOnly, SameSite=Lax cookie and goes where the operator was headed', async () => {
    const operator = await createTestOperator(database.db);
    const { response, cookies } = await submitLogin(node.url, operator.email.toUpperCase(), operator.password, '/dashboard/blacklist');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard/blacklist');
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith('tether_session='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/);

    const page = await fetch(`${node.url}/dashboard/blacklist`, { headers: { cookie: cookieHeader(cookies) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(operator.email);
    // Any node serves the session: it lives in the database.
    expect((await fetch(`${otherNode.url}/dashboard/blacklist`, { headers: { cookie: cookieHeader(cookies) } })).status).toBe(200);
  });

  it('answers a wrong password and an unknown email alike, and never redirects off the site', async () => {
    const operator = await createTestOperator(database.db);
    const wrong = await submitLogin(node.url, operator.email, 'not the password');
    const unknown = await submitLogin(node.url, 'nobody@tether.test', 'not the password');
    for (const { response } of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('Wrong email or password.');
      expect(cookiesOf(response).tether_session).toBeUndefined();
    }
    for (const next of ['//evil.example/', '/\t/evil.example', '/%0a/evil.example', '/\\evil.example']) {
      const offsite = await submitLogin(node.url, operator.email, operator.password, next);
      expect(offsite.response.headers.get('location'), next).toBe('/dashboard');
    }
  });

  it('refuses a log-in form without its CSRF cookie', async () => {
    const operator = await createTestOperator(database.db);
    const form = await (await fetch(`${node.url}/login`)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(form)![1]!;
    const response = await fetch(`${node.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, email: operator.email, password: operator.password }),
    });
    expect(response.status).toBe(403);
    expect(cookiesOf(response).tether_session).toBeUndefined();
  });

  it('locks an email from an address after repeated failures, on every node, until the lock-out ends', async () => {
    const operator = await createTestOperator(database.db);
    for (let failure = 1; failure <= 3; failure++) {
      const { response } = await submitLogin(failure % 2 ? node.url : otherNode.url, operator.email, `wrong ${failure}`);
      expect(response.status).toBe(failure < 3 ? 401 : 429);
    }
    // The right password does not help while locked, on either node.
    for (const url of [node.url, otherNode.url]) {
      const { response } = await submitLogin(url, operator.email, operator.password);
      expect(response.status).toBe(429);
      expect(await response.text()).toContain('Too many failed log-ins');
    }
    // An email without an account is locked the same way: the lock-out tells nothing about accounts.
    for (let failure = 1; failure <= 3; failure++) await submitLogin(node.url, 'ghost@tether.test', 'guess');
    expect((await submitLogin(node.url, 'ghost@tether.test', 'guess')).response.status).toBe(429);

    // The lock-out has passed: the failures fall out of its window.
    await database.db.update(loginFailureEvents).set({ failedAt: sql`now() - interval '601 seconds'` }).where(eq(loginFailureEvents.email, operator.email));
    expect((await submitLogin(node.url, operator.email, operator.password)).response.status).toBe(303);
    expect(await database.db.select().from(loginFailureEvents).where(eq(loginFailureEvents.email, operator.email))).toEqual([]);
  });
});

describe('a session', () => {
  it('refuses state-changing requests without its CSRF token', async () => {
    const session = await logIn(node.url, await createTestOperator(database.db));
    const noToken = { cookie: session.cookie, 'content-type': 'application/json' };
    const upload = JSON.stringify({ fileName: 'a.csv', sizeBytes: 10 });
    expect((await fetch(`${node.url}/uploads`, { method: 'POST', headers: noToken, body: upload })).status).toBe(403);
    expect((await fetch(`${node.url}/uploads`, { method: 'POST', headers: { ...noToken, 'x-csrf-token': 'forged' }, body: upload })).status).toBe(403);
    const form = await fetch(`${node.url}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=forged',
    });
    expect(form.status).toBe(403);
    // Still logged in: the forged log-out did nothing.
    expect((await session.fetch('/dashboard/debtors')).status).toBe(200);
  });

  it('ends after its idle time, and never outlives its maximum age', async () => {
    const session = await logIn(node.url, await createTestOperator(database.db));
    const row = async () => (await database.db.select().from(operatorSessions).where(eq(operatorSessions.csrfToken, session.csrfToken)))[0]!;

    // Used: its expiry moves forward to the idle timeout (2 h by default).
    await database.db.update(operatorSessions).set({ expiresAt: sql`now() + interval '10 seconds'` }).where(eq(operatorSessions.csrfToken, session.csrfToken));
    expect((await session.fetch('/dashboard/debtors')).status).toBe(200);
    expect((await row()).expiresAt.getTime()).toBeGreaterThan(Date.now() + 60 * 60 * 1000);

    // Near its maximum age (12 h by default): use no longer extends it past created_at + 12 h.
    await database.db
      .update(operatorSessions)
      .set({ createdAt: sql`now() - interval '12 hours' + interval '30 seconds'`, expiresAt: sql`now() + interval '5 seconds'` })
      .where(eq(operatorSessions.csrfToken, session.csrfToken));
    expect((await session.fetch('/dashboard/debtors')).status).toBe(200);
    const capped = await row();
    expect(capped.expiresAt.getTime()).toBeLessThanOrEqual(capped.createdAt.getTime() + 12 * 60 * 60 * 1000);

    await database.db.update(operatorSessions).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(operatorSessions.csrfToken, session.csrfToken));
    const expired = await session.fetch('/dashboard/debtors', { headers: { accept: 'text/html' } });
    expect(expired.status).toBe(303);
    expect(expired.headers.get('location')).toMatch(/^\/login\?next=/);
    expect((await session.fetch('/uploads')).status).toBe(401);
  });

  it('ends at log-out: the cookie no longer works anywhere', async () => {
    const session = await logIn(node.url, await createTestOperator(database.db));
    const out = await session.fetch('/logout', { method: 'POST' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect(out.headers.getSetCookie().join()).toMatch(/tether_session=;/);
    expect((await session.fetch('/uploads')).status).toBe(401);
    expect((await fetch(`${otherNode.url}/uploads`, { headers: { cookie: session.cookie } })).status).toBe(401);
  });
});

it('sets Secure __Host- cookies when the dashboard is served over HTTPS', async () => {
  const config = loadConfig({ ...backendEnvironment(database.url, 'http://127.0.0.1:9'), PUBLIC_URL: 'https://tether.example' });
  const services = createServices(config, pino({ level: 'silent' }));
  try {
    const response = await createApp(services).request('https://tether.example/login');
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-tether_login_csrf=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/Path=\//);
  } finally {
    await services.close();
  }
});
