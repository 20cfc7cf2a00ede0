/** Rows per page of every list; the pages continue with keyset paging (see components/pager.tsx). */
export const PAGE_SIZE = 50;
