/**
 * Deterministic randomness for the simulator: a run with the same seed and the same requests
 * makes the same decisions, so a failing test can be replayed.
 */
import { createHash } from 'node:crypto';

/** Uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough to pick outcomes and faults. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random stream of its own for `key`, so one transaction's fate does not depend on the arrival order of others. */
export function randomFor(seed: number, key: string): Random {
  return seededRandom(createHash('sha256').update(`${seed}:${key}`).digest().readUInt32BE(0));
}

/**
 * Ids that are unique per (seed, kind, sequence) and look like Genesis's: a 32-character lowercase
 * hex unique_id. A 32-bit generator would repeat within tens of thousands of ids; a hash does not.
 */
export function deterministicHex(seed: number, kind: string, sequence: number, length = 32): string {
  return createHash('sha256').update(`${seed}:${kind}:${sequence}`).digest('hex').slice(0, length);
}

export function deterministicDigits(seed: number, kind: string, sequence: number, length: number): string {
  const hex = createHash('sha256').update(`${seed}:${kind}:${sequence}`).digest('hex');
  let digits = '';
  for (const char of hex) if (digits.length < length) digits += String(parseInt(char, 16) % 10);
  return digits;
}
