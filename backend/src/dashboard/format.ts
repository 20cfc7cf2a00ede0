/** How values read on screen: times in UTC (operators in several countries read the same page), money with its currency. */

export function formatTime(value: Date | string | null | undefined): string {
  if (!value) return '';
  const date = typeof value === 'string' ? new Date(value) : value;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatMoney(cents: number, currency = 'EUR'): string {
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency }).format(cents / 100);
}

export function formatCount(value: number): string {
  return new Intl.NumberFormat('en-IE').format(value);
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A query parameter as a date at the start (or, with `endOfDay`, the end) of that UTC day. */
export function dayParameter(value: string | undefined, endOfDay = false): Date | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return undefined;
  return endOfDay ? new Date(date.getTime() + 24 * 60 * 60 * 1000) : date;
}
