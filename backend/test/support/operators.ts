/**
 * Operators and logged-in HTTP clients for tests: what a browser does to log in (fetch the
 * form, echo its CSRF token, keep the session cookie), so tests go through the real log-in.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/client';
import type { Role } from '@tether/shared/roles';
import { systemActor } from '../../src/audit/actor';
import { createOperator } from '../../src/auth/operators';

/** Who acts in tests that call an action directly rather than through a route or the CLI. */
export const TEST_ACTOR = systemActor('test');

export interface TestOperator {
  email: string;
  password: string;
}

export async function createTestOperator(
  db: Database,
  email = `operator-${randomBytes(4).toString('hex')}@tether.test`,
  role: Role = 'operator',
): Promise<TestOperator & { id: number; role: Role }> {
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const { id } = await createOperator(db, { email, password, role }, TEST_ACTOR);
  return { id, email, password, role };
}

/** `name=value` pairs from Set-Cookie headers, for a Cookie header. */
export function cookiesOf(response: Response): Record<string, string> {
  return Object.fromEntries(
    response.headers.getSetCookie().map((line) => {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      return [pair!.slice(0, index), pair!.slice(index + 1)];
    }),
  );
}

export const cookieHeader = (cookies: Record<string, string>) =>
  Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');

/** GET /login, then POST it (with `headers`, e.g. X-Forwarded-For); the raw answer to the POST, and the cookies in play. */
export async function submitLogin(baseUrl: string, email: string, password: string, next?: string, headers: Record<string, string> = {}) {
  const form = await fetch(`${baseUrl}/login`, { headers });
  const html = await form.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('the log-in form has no CSRF token');
  const cookies = cookiesOf(form);
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(cookies) },
    body: new URLSearchParams({ _csrf: token, email, password, ...(next ? { next } : {}) }),
  });
  return { response, cookies: { ...cookies, ...cookiesOf(response) } };
}

export interface SessionClient {
  /** The session cookie and the CSRF header on every request. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  cookie: string;
  csrfToken: string;
  sessionToken: string;
}

export async function logIn(baseUrl: string, operator: TestOperator): Promise<SessionClient> {
  const { response, cookies } = await submitLogin(baseUrl, operator.email, operator.password);
  if (response.status !== 303) throw new Error(`log-in answered ${response.status}`);
  const sessionToken = cookies.tether_session ?? cookies['__Host-tether_session'];
  if (!sessionToken) throw new Error('no session cookie after log-in');
  const cookie = cookieHeader(cookies);
  const page = await (await fetch(`${baseUrl}/dashboard/debtors`, { headers: { cookie } })).text();
  const csrfToken = /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1];
  if (!csrfToken) throw new Error('the dashboard has no CSRF token');
  return {
    cookie,
    csrfToken,
    sessionToken,
    fetch: (path, init = {}) =>
      fetch(`${baseUrl}${path}`, {
        redirect: 'manual',
        ...init,
        headers: { cookie, 'x-csrf-token': csrfToken, ...(init.headers as Record<string, string> | undefined) },
      }),
  };
}
