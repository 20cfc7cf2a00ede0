/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import { CSRF_FIELD } from '../../auth/csrf';

/**
 * Keyset paging: "older" continues after the last row shown, so a page never shifts while rows
 * arrive. A link carrying the query; or, with `post`, a form posting it to `path`: a search term
 * may be a whole IBAN, and URLs end up in access logs, browser history and Referer headers.
 */
export const Pager: FC<{ path: string; query: Record<string, string | undefined>; before?: number | string; post?: { csrfToken: string } }> = ({
  path,
  query,
  before,
  post,
}) => {
  if (before === undefined) return null;
  const fields = Object.entries({ ...query, before: String(before) }).filter((entry): entry is [string, string] => Boolean(entry[1]));
  if (post) {
    return (
      <form class="pager" method="post" action={path}>
        <input type="hidden" name={CSRF_FIELD} value={post.csrfToken} />
        {fields.map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" class="link">
          Older →
        </button>
      </form>
    );
  }
  return (
    <div class="pager">
      <a href={`${path}?${new URLSearchParams(fields)}`}>Older →</a>
    </div>
  );
};
