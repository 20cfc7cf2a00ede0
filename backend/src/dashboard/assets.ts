/**
 * The dashboard's static files: its stylesheet and scripts, and htmx from its npm package (no
 * CDN: browsers load everything from the backend). Read once at start-up; URLs carry a hash of
 * the content, so browsers may cache them for good and still see a new version at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);
const own = (name: string) => new URL(`./assets/${name}`, import.meta.url);

const FILES = {
  'dashboard.css': { path: own('dashboard.css'), type: 'text/css; charset=utf-8' },
  'dashboard.js': { path: own('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'upload.js': { path: own('upload.js'), type: 'text/javascript; charset=utf-8' },
  'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
} as const;

type AssetName = keyof typeof FILES;

const ASSETS = new Map(
  Object.entries(FILES).map(([name, file]) => {
    const body = readFileSync(file.path);
    return [name, { body, type: file.type, version: createHash('sha256').update(body).digest('hex').slice(0, 12) }];
  }),
);

export function assetUrl(name: AssetName): string {
  return `/assets/${name}?v=${ASSETS.get(name)!.version}`;
}

export function assetRoutes() {
  return new Hono().get('/assets/:name', (c) => {
    const asset = ASSETS.get(c.req.param('name'));
    if (!asset) return c.notFound();
    c.header('Content-Type', asset.type);
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(new Uint8Array(asset.body));
  });
}
