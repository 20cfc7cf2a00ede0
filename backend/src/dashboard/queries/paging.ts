import { gte, lt, type Column, type SQL } from 'drizzle-orm';

/** Rows per page of every list; the pages continue with keyset paging (see components/pager.tsx). */
export const PAGE_SIZE = 50;

/** What part of a list a page shows: a time range and, past the first page, the keyset position. */
export interface ListWindow {
  /** On or after. */
  from?: Date;
  /** Before. */
  to?: Date;
  /** Ids below this one (the list is newest first). */
  before?: number;
}

/** The window as conditions on the list's time and id columns. */
export function windowConditions(window: ListWindow, time: Column, id: Column): SQL[] {
  const conditions: SQL[] = [];
  if (window.from) conditions.push(gte(time, window.from));
  if (window.to) conditions.push(lt(time, window.to));
  if (window.before !== undefined) conditions.push(lt(id, window.before));
  return conditions;
}
