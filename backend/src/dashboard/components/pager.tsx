/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';

/** Keyset paging: "older" continues after the last row shown, so a page never shifts while rows arrive. */
export const Pager: FC<{ path: string; query: Record<string, string | undefined>; before?: number | string }> = ({ path, query, before }) => {
  if (before === undefined) return null;
  const params = new URLSearchParams(Object.entries({ ...query, before: String(before) }).filter((entry): entry is [string, string] => Boolean(entry[1])));
  return (
    <div class="pager">
      <a href={`${path}?${params}`}>Older →</a>
    </div>
  );
};
