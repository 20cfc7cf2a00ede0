/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { Layout, type Section, type Viewer } from './layout';

export function viewerOf(c: Context): Viewer {
  return { operator: c.get('operator'), csrfToken: c.get('csrfToken') };
}

/** A whole page in the dashboard's frame. */
export function page(c: Context, title: string, section: Section, body: Child, status: 200 | 404 | 422 = 200) {
  return c.html(
    <Layout title={title} section={section} viewer={viewerOf(c)}>
      {body}
    </Layout>,
    status,
  );
}
