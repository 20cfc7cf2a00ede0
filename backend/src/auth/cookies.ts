/**
 * The cookies: the session token, and the log-in form's CSRF token (a double-submit cookie,
 * since there is no session yet). HttpOnly, SameSite, and Secure with the __Host- prefix when
 * the dashboard is served over HTTPS (PUBLIC_URL), so no other host or path can set them.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AuthSettings } from '../config';

type CookieSettings = Pick<AuthSettings, 'secureCookies'>;

const name = (base: string, settings: CookieSettings) => (settings.secureCookies ? `__Host-${base}` : base);
const SESSION = 'tether_session';
const LOGIN_CSRF = 'tether_login_csrf';

function options(settings: CookieSettings, sameSite: 'Lax' | 'Strict') {
  return { httpOnly: true, sameSite, secure: settings.secureCookies, path: '/' } as const;
}

export function readSessionCookie(c: Context, settings: CookieSettings): string | undefined {
  return getCookie(c, name(SESSION, settings));
}

/** Lax, not Strict: a link to the dashboard from a mail or a ticket should open it logged in. */
export function writeSessionCookie(c: Context, settings: CookieSettings, token: string): void {
  setCookie(c, name(SESSION, settings), token, options(settings, 'Lax'));
}

export function clearSessionCookie(c: Context, settings: CookieSettings): void {
  deleteCookie(c, name(SESSION, settings), options(settings, 'Lax'));
}

export function readLoginCsrfCookie(c: Context, settings: CookieSettings): string | undefined {
  return getCookie(c, name(LOGIN_CSRF, settings));
}

export function writeLoginCsrfCookie(c: Context, settings: CookieSettings, token: string): void {
  setCookie(c, name(LOGIN_CSRF, settings), token, options(settings, 'Strict'));
}
