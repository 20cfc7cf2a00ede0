/**
 * Keyed hashes of personal data (HMAC-SHA-256 under PERSONAL_DATA_KEY). A blacklist entry keeps
 * the keyed hash of its IBAN, so that once the debtor is erased (the IBAN itself replaced by a
 * pseudonym) the same IBAN is still refused; without the key the hash cannot be recomputed from
 * a guessed IBAN, which an unkeyed hash of so small a space would allow.
 */
import { normaliseIban } from '@tether/shared/iban';
import { createHmac } from 'node:crypto';

export function ibanKeyedHash(key: string, iban: string): string {
  return createHmac('sha256', key).update(`iban:${normaliseIban(iban)}`).digest('hex');
}

/**
 * The pseudonym that replaces an erased debtor's name, IBAN, email and address: stable for one
 * IBAN (every row of the same debtor gets the same one, so accounting can still group them),
 * derived under the key with another purpose than the blacklist hash, so the two cannot be linked.
 */
export function erasurePseudonym(key: string, iban: string): string {
  return `ERASED-${createHmac('sha256', key).update(`pseudonym:${normaliseIban(iban)}`).digest('hex').slice(0, 16).toUpperCase()}`;
}
