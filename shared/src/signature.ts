/**
 * Genesis notification signatures: lowercase hex of HASH(id + api_password), no HMAC, where id is
 * the notification kind's own id (unique_id, wpf_unique_id, reference_id or
 * payment_transaction_unique_id; see notification.ts).
 * The hash is chosen by the signature's length (40 → SHA-1, 64 → SHA-256, 128 → SHA-512),
 * as every official SDK does. See ../shared/emp-genesis.md §5.3.
 */

import { hexDigest, type DigestAlgorithm } from './digest';

export type SignatureAlgorithm = DigestAlgorithm;

const ALGORITHM_BY_HEX_LENGTH: Record<number, SignatureAlgorithm> = {
  40: 'SHA-1',
  64: 'SHA-256',
  128: 'SHA-512',
};

export async function signNotification(
  id: string,
  apiPassword: string,
  algorithm: SignatureAlgorithm = 'SHA-1',
): Promise<string> {
  return hexDigest(algorithm, id + apiPassword);
}

/** Compares two equal-length strings without an early exit, so timing reveals nothing. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * True when `signature` matches any of the passwords (several are accepted during a rotation).
 * Every password is checked, so the answer takes as long for the first as for the last.
 */
export async function verifyNotificationSignature(
  id: string,
  signature: string,
  apiPasswords: readonly string[],
): Promise<boolean> {
  const normalized = signature.trim().toLowerCase();
  const algorithm = ALGORITHM_BY_HEX_LENGTH[normalized.length];
  if (!algorithm || !/^[0-9a-f]+$/.test(normalized)) return false;
  let matched = false;
  for (const password of apiPasswords) {
    const expected = await signNotification(id, password, algorithm);
    if (constantTimeEqual(expected, normalized)) matched = true;
  }
  return matched;
}
