import { describe, expect, it } from 'vitest';
import { hexDigest } from '../src/digest';

// FIPS 180 test vectors for "abc".
const ABC = {
  'SHA-1': 'a9993e364706816aba3e25717850c26c9cd0d89d',
  'SHA-256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  'SHA-512':
    'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
} as const;

describe('hexDigest', () => {
  for (const [algorithm, expected] of Object.entries(ABC)) {
    it(`gives the standard ${algorithm} of "abc"`, async () => {
      expect(await hexDigest(algorithm as keyof typeof ABC, 'abc')).toBe(expected);
    });
  }

  it('hashes UTF-8, as WebCrypto over TextEncoder does', async () => {
    const text = 'Müller-Lüdenscheidt ✓';
    const webCrypto = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
    expect(await hexDigest('SHA-256', text)).toBe([...webCrypto].map((byte) => byte.toString(16).padStart(2, '0')).join(''));
  });
});
