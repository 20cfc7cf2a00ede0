/**
 * Operator passwords: argon2id, with OWASP's recommended minimum parameters (19 MiB, two
 * passes, one lane). The PHC string stores algorithm, parameters and salt, so raising the
 * parameters later still verifies the hashes made before.
 */
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;
/** Longer passwords are refused when set, and at log-in before any hashing. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Why a password is not acceptable, or undefined when it is. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let decoy: Promise<string> | undefined;

/**
 * Checks `password` against `hash`. Without a hash (no such operator) it verifies against a
 * decoy, so answering takes as long whether or not the email has an account.
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  if (hash === undefined) {
    await argon2.verify(await (decoy ??= hashPassword('decoy password, never matches')), password);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
