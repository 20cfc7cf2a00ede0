/**
 * Hex digests of short texts (notification signatures, deduplication ids), the same on Workers
 * and on Node. Where the runtime offers node:crypto without an import (Node's
 * process.getBuiltinModule), its synchronous hash is used: on Node, WebCrypto's digest is a job
 * for the thread pool, 40–100 µs of CPU and a hop to another thread and back for a few dozen
 * bytes, where createHash takes about 3 µs. Elsewhere (Workers, without nodejs_compat) WebCrypto.
 */

export type DigestAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-512';

interface NodeHash {
  update(text: string, encoding: 'utf8'): NodeHash;
  digest(encoding: 'hex'): string;
}

const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => { createHash(algorithm: string): NodeHash } | undefined } }
).process?.getBuiltinModule?.('node:crypto');

const NODE_NAMES: Record<DigestAlgorithm, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' };

const encoder = new TextEncoder();

export async function hexDigest(algorithm: DigestAlgorithm, text: string): Promise<string> {
  if (nodeCrypto) return nodeCrypto.createHash(NODE_NAMES[algorithm]).update(text, 'utf8').digest('hex');
  let hex = '';
  for (const byte of new Uint8Array(await crypto.subtle.digest(algorithm, encoder.encode(text)))) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
