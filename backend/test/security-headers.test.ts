/**
 * Every answer of the backend carries the Content-Security-Policy, frame-ancestors 'none',
 * nosniff and a Referrer-Policy (issue 15), and no page relies on what that policy refuses:
 * inline scripts, inline styles, inline event handlers, htmx's eval'd hx-on attributes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { createTestOperator, logIn, type SessionClient } from './support/operators';

let database: MigratedTestDatabase;
let node: DashboardNode;
let session: SessionClient;

beforeAll(async () => {
  database = await createMigratedDatabase();
  node = await startDashboardNode(database.url);
  session = await logIn(node.url, await createTestOperator(database.db));
});
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

function expectSecurityHeaders(response: Response, what: string) {
  const csp = response.headers.get('content-security-policy') ?? '';
  expect(csp, what).toContain("default-src 'self'");
  expect(csp, what).toContain("script-src 'self'");
  expect(csp, what).toContain("style-src 'self'");
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).not.toContain('unsafe-inline');
  expect(csp, what).not.toContain('unsafe-eval');
  // The upload's presigned PUT goes to object storage (here the node's S3_ENDPOINT).
  expect(csp, what).toMatch(/connect-src 'self' http:\/\/127\.0\.0\.1:9[; ]/);
  expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(response.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(response.headers.get('x-frame-options'), what).toBe('DENY');
}

const PAGES = [
  '/dashboard',
  '/dashboard/uploads/new',
  '/dashboard/uploads',
  '/dashboard/debtors',
  '/dashboard/attempts',
  '/dashboard/runs',
  '/dashboard/blacklist',
  '/dashboard/events',
];

describe('security headers', () => {
  it('are on public answers, refusals, redirects and errors', async () => {
    const answers: Array<[string, Promise<Response>]> = [
      ['GET /login', fetch(`${node.url}/login`)],
      ['GET /health', fetch(`${node.url}/health`)],
      ['GET /metrics', fetch(`${node.url}/metrics`)],
      ['GET /assets/htmx.min.js', fetch(`${node.url}/assets/htmx.min.js`)],
      ['a page without a session (redirect)', fetch(`${node.url}/dashboard`, { headers: { accept: 'text/html' }, redirect: 'manual' })],
      ['the API without a session (401)', fetch(`${node.url}/uploads`)],
      ['an unsigned delivery (401)', fetch(`${node.url}/qstash/billing/batch`, { method: 'POST', body: '{}' })],
      ['an oversized body (413)', fetch(`${node.url}/login`, { method: 'POST', body: 'x'.repeat(8 * 1024) })],
      ['an unknown path, logged in (404)', session.fetch('/nope')],
    ];
    for (const [what, answer] of answers) expectSecurityHeaders(await answer, what);
  });

  it.each(PAGES)('are on %s, which has no inline script, style or handler', async (path) => {
    const response = await session.fetch(path);
    expect(response.status).toBe(200);
    expectSecurityHeaders(response, path);
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).not.toMatch(/\shx-on/);
    // htmx is told not to inject its indicator styles, nor to eval.
    expect(html).toContain('&quot;includeIndicatorStyles&quot;:false');
    expect(html).toContain('&quot;allowEval&quot;:false');
  });
});
