/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The frame of every dashboard page: navigation, the operator and log-out, the CSRF token for htmx and scripts. */
import { roleAllows, type Permission } from '@tether/shared/roles';
import type { Child, FC } from 'hono/jsx';
import type { Operator } from '../auth/operators';
import { CSRF_FIELD, CSRF_HEADER } from '../auth/csrf';
import { assetUrl } from './assets';

/** The pages in the navigation, each shown to the roles that may open it (auth/route-permissions.ts). */
export const NAVIGATION = [
  { href: '/dashboard', label: 'Status' },
  { href: '/dashboard/uploads/new', label: 'Upload', permission: 'operate' },
  { href: '/dashboard/uploads', label: 'Uploads' },
  { href: '/dashboard/debtors', label: 'Debtors' },
  { href: '/dashboard/attempts', label: 'Attempts' },
  { href: '/dashboard/runs', label: 'Billing runs' },
  { href: '/dashboard/blacklist', label: 'Blacklist' },
  { href: '/dashboard/events', label: 'Events' },
  { href: '/dashboard/review', label: 'Review' },
  { href: '/dashboard/personal-data', label: 'Personal data' },
  { href: '/dashboard/reports', label: 'Reports' },
  { href: '/dashboard/audit', label: 'Audit' },
  { href: '/dashboard/operators', label: 'Operators', permission: 'administer' },
] as const satisfies ReadonlyArray<{ href: string; label: string; permission?: Permission }>;

export type Section = (typeof NAVIGATION)[number]['href'];

/**
 * htmx swaps 422 answers too: a refused action shows its reason where the result would be. Under
 * the Content-Security-Policy (no inline style, no eval) htmx must not inject its indicator
 * <style> nor evaluate hx-on/js: attributes: shared behaviour lives in dashboard.js.
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true },
    { code: '[45]..', swap: false, error: true },
  ],
});

export interface Viewer {
  operator: Operator;
  csrfToken: string;
}

export const Document: FC<{ title: string; children?: Child; csrfToken?: string }> = ({ title, children, csrfToken }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title} · Tether</title>
      <link rel="stylesheet" href={assetUrl('dashboard.css')} />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      {csrfToken ? <meta name="csrf-token" content={csrfToken} /> : null}
      <script src={assetUrl('htmx.min.js')} defer></script>
      <script src={assetUrl('dashboard.js')} defer></script>
    </head>
    {children}
  </html>
);

export const Layout: FC<{ title: string; section: Section; viewer: Viewer; children?: Child }> = ({ title, section, viewer, children }) => (
  <Document title={title} csrfToken={viewer.csrfToken}>
    <body hx-headers={JSON.stringify({ [CSRF_HEADER]: viewer.csrfToken })}>
      <header class="top">
        <a class="brand" href="/dashboard">
          Tether
        </a>
        <nav>
          {NAVIGATION.filter((item) => !('permission' in item) || roleAllows(viewer.operator.role, item.permission)).map((item) => (
            <a href={item.href} aria-current={item.href === section ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        <form class="who" method="post" action="/logout">
          <input type="hidden" name={CSRF_FIELD} value={viewer.csrfToken} />
          <span>
            {viewer.operator.email} <small>({viewer.operator.role})</small>
          </span>
          <button type="submit" class="link">
            Log out
          </button>
        </form>
      </header>
      <main>
        <h1>{title}</h1>
        {children}
      </main>
    </body>
  </Document>
);
