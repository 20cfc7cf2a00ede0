/** How values read on screen: times in UTC (operators in several countries read the same page), money with its currency. */
import { currencyExponent } from '@tether/shared/currency';

export function formatTime(value: Date | string | null | undefined): string {
  if (!value) return '';
  const date = typeof value === 'string' ? new Date(value) : value;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Minor units of `currency` (cents for EUR, yen for JPY), shown in major units. */
export function formatMoney(minor: number, currency = 'EUR'): string {
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency }).format(minor / 10 ** currencyExponent(currency));
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
