/**
 * Deterministic randomness for the simulator: a run with the same seed and the same requests
 * makes the same decisions, so a failing test can be replayed. Ids are not drawn from it (ids.ts).
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
