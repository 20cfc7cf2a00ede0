/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * GET/POST /login and POST /logout. The log-in form carries a double-submit CSRF token (a cookie
 * and a field that must match), since there is no session yet to hold one.
 */
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { AuthContext } from '../../auth/context';
import { clearSessionCookie, readLoginCsrfCookie, readSessionCookie, writeLoginCsrfCookie, writeSessionCookie } from '../../auth/cookies';
import { CSRF_FIELD, tokensMatch } from '../../auth/csrf';
import { logIn } from '../../auth/login';
import type { ThrottleScope } from '../../auth/login-throttle';
import { LOGIN_PATH } from '../../auth/middleware';
import { safeNext } from '../../auth/next-path';
import { endSession } from '../../auth/sessions';
import { clientAddress } from '../../http/client-address';
import { formatTime } from '../format';
import { Document } from '../layout';

const THROTTLED: Record<ThrottleScope, string> = {
  email_and_address: 'Too many failed log-ins for this email.',
  address: 'Too many failed log-ins from your address.',
  everyone: 'Too many failed log-ins on this site right now.',
};

function loginForm(c: Context, settings: AuthContext['settings'], options: { next: string; email?: string; problem?: string }, status: 200 | 400 | 401 | 403 | 429 = 200) {
  const token = randomBytes(24).toString('base64url');
  writeLoginCsrfCookie(c, settings, token);
  return c.html(
    <Document title="Log in">
      <body>
        <main class="login panel">
          <h1>Tether</h1>
          {options.problem ? (
            <p class="notice bad" role="alert">
              {options.problem}
            </p>
          ) : null}
          <form method="post" action={LOGIN_PATH}>
            <input type="hidden" name={CSRF_FIELD} value={token} />
            <input type="hidden" name="next" value={options.next} />
            <label>
              Email
              <input type="email" name="email" autocomplete="username" required autofocus value={options.email ?? ''} />
            </label>
            <label>
              Password
              <input type="password" name="password" autocomplete="current-password" required />
            </label>
            <button type="submit">Log in</button>
          </form>
        </main>
      </body>
    </Document>,
    status,
  );
}

export function loginPages(auth: AuthContext) {
  const { settings } = auth;
  return new Hono()
    .get(LOGIN_PATH, (c) => loginForm(c, settings, { next: safeNext(c.req.query('next'), settings.publicUrl) }))
    .post(LOGIN_PATH, async (c) => {
      const form = await c.req.parseBody();
      const next = safeNext(form.next, settings.publicUrl);
      const email = typeof form.email === 'string' ? form.email : '';
      const password = typeof form.password === 'string' ? form.password : '';
      const submitted = typeof form[CSRF_FIELD] === 'string' ? form[CSRF_FIELD] : undefined;
      const expected = readLoginCsrfCookie(c, settings);
      if (!expected || !tokensMatch(expected, submitted)) {
        return loginForm(c, settings, { next, email, problem: 'The form had expired. Please log in again.' }, 403);
      }
      const result = await logIn(auth, { email, password, address: clientAddress(c, settings.trustedProxies) });
      if (result.ok) {
        writeSessionCookie(c, settings, result.session.token);
        return c.redirect(next, 303);
      }
      if (result.reason === 'throttled') {
        c.header('Retry-After', String(Math.max(1, Math.ceil((result.until.getTime() - Date.now()) / 1000))));
        const problem = `${THROTTLED[result.scope]} Try again after ${formatTime(result.until)}.`;
        return loginForm(c, settings, { next, email, problem }, 429);
      }
      if (result.reason === 'too_long') return loginForm(c, settings, { next, problem: 'That email or password is too long.' }, 400);
      return loginForm(c, settings, { next, email, problem: 'Wrong email or password.' }, 401);
    })
    .post('/logout', async (c) => {
      const token = readSessionCookie(c, settings);
      if (token) await endSession(auth.db, token, c.get('operator'));
      clearSessionCookie(c, settings);
      return c.redirect(LOGIN_PATH, 303);
    });
}
