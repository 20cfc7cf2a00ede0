import { normaliseIban } from '@tether/shared/iban';

/** The IBAN a search term is, in electronic format, when it is shaped like a whole one (country, check digits, 11–30 characters). */
export function ibanSearchTerm(term: string): string | undefined {
  const compact = normaliseIban(term);
  return /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact) ? compact : undefined;
}
