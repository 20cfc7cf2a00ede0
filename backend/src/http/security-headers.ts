/**
 * Security headers on every answer of the backend (hono/secure-headers, outermost in app.ts, so
 * refusals, redirects and errors carry them too):
 *
 * - Content-Security-Policy: scripts, styles and everything else from this origin only. No page
 *   has an inline script, style, or event handler (they live in /assets; htmx is told not to
 *   inject its indicator styles and never to eval, layout.tsx), so an injected one cannot run.
 *   connect-src adds object storage, which upload.js PUTs the file to with a presigned URL.
 *   frame-ancestors 'none': no site may frame the dashboard (clickjacking).
 * - X-Content-Type-Options: nosniff; Referrer-Policy: no-referrer (links to presigned
 *   downloads carry their signature in the URL, and no URL of the dashboard is anyone's business);
 *   the library's other defaults (X-Frame-Options, cross-origin isolation of resources).
 */
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

function headersFor(storageOrigin: string): MiddlewareHandler {
  const self = "'self'";
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: [self],
      scriptSrc: [self],
      styleSrc: [self],
      imgSrc: [self, 'data:'],
      connectSrc: [self, storageOrigin],
      formAction: [self],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    // Browsers ignore it over http; over https (required in production) it keeps them there.
    strictTransportSecurity: 'max-age=31536000',
  });
}

/** `storageOrigin`: where browsers send uploads (resolved once, at the first request). */
export function securityHeaders(storageOrigin: () => Promise<string>): MiddlewareHandler {
  let headers: Promise<MiddlewareHandler> | undefined;
  return async (c, next) => {
    headers ??= storageOrigin().then(headersFor, (error: unknown) => {
      headers = undefined;
      throw error;
    });
    return (await headers)(c, next);
  };
}
