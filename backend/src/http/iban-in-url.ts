/**
 * Whether a URL (or a part of one) carries an IBAN-shaped value: in any case, compact or spaced,
 * percent-encoded or not. Such a URL must never be sent (a Location, a link, next=): URLs end up
 * in access logs, browser history and Referer headers.
 */
import { containsIban } from '@tether/shared/mask';

export function carriesWholeIban(url: string): boolean {
  let decoded = url.replace(/\+/g, ' ');
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // Malformed escapes: look at the text as it is.
  }
  return containsIban(decoded.toUpperCase());
}
