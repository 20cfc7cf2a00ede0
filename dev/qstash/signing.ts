/**
 * Upstash-Signature exactly as QStash makes it: an HS256 JWT signed with the current signing key,
 * claims iss "Upstash", sub = destination URL, iat/nbf = now, exp = now + 5 minutes, a unique jti,
 * and body = base64url of the SHA-256 of the body, padded as QStash pads it. The official Receiver
 * checks the issuer, the times, sub against the URL it is given and the body hash.
 */
import { createHash, webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import { newId } from './ids';

const LIFETIME_SECONDS = 5 * 60;

export function bodyHash(body: Uint8Array): string {
  const base64url = createHash('sha256').update(body).digest('base64url');
  return base64url.padEnd(Math.ceil(base64url.length / 4) * 4, '=');
}

// jose signs with Web Crypto; importing the key costs about as much as signing, so import it once.
const importedKeys = new Map<string, Promise<webcrypto.CryptoKey>>();

function hmacKey(signingKey: string): Promise<webcrypto.CryptoKey> {
  let key = importedKeys.get(signingKey);
  if (!key) {
    const raw = new TextEncoder().encode(signingKey);
    key = webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    importedKeys.set(signingKey, key);
  }
  return key;
}

export async function signDelivery(
  signingKey: string,
  destinationUrl: string,
  body: Uint8Array,
  now = Date.now(),
): Promise<string> {
  const issuedAt = Math.floor(now / 1_000);
  return new SignJWT({ body: bodyHash(body) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(destinationUrl)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + LIFETIME_SECONDS)
    .setJti(newId('jwt'))
    .sign(await hmacKey(signingKey));
}
