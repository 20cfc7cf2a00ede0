/** Reading what a request names: ids from the path, dates from the query. Malformed means absent. */
import type { ListWindow } from './queries/paging';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string | undefined): value is string {
  return value !== undefined && UUID.test(value);
}

/** A query parameter as a date at the start (or, with `endOfDay`, the end) of that UTC day. */
function dayParameter(value: string | undefined, endOfDay = false): Date | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return undefined;
  return endOfDay ? new Date(date.getTime() + 24 * 60 * 60 * 1000) : date;
}

/** A list page's window from its query: `from` and `to` days (both included), `before` an id. */
export function listWindow(query: Record<string, string | undefined>): ListWindow {
  return { from: dayParameter(query.from), to: dayParameter(query.to, true), before: Number(query.before) || undefined };
}
