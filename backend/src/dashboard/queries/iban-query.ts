import { normaliseIban } from '@tether/shared/iban';
import { containsIban } from '@tether/shared/mask';

const WHOLE_IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;

/** The IBAN a search term is, in electronic format, when it is shaped like a whole one (country, check digits, 11–30 characters). */
export function ibanSearchTerm(term: string): string | undefined {
  const compact = normaliseIban(term);
  return WHOLE_IBAN.test(compact) ? compact : undefined;
}

/**
 * Whether a URL (or a part of one) carries an IBAN-shaped value: in any case, compact or spaced,
 * percent-encoded or not. Such a URL must never be sent (a Location, a link, next=): URLs end up
 * in access logs, browser history and Referer headers.
 */
export function carriesWholeIban(url: string): boolean {
  let decoded = url.replace(/\+/g, ' ');
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // Malformed escapes: look at the text as it is.
  }
  return containsIban(decoded.toUpperCase());
}
