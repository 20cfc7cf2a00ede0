/**
 * The ids the simulator hands out, fresh on every start: a restarted simulator must not repeat
 * ids that a merchant's database already holds (Tether's embedded database outlives `npm start`),
 * so they are drawn from the system's random source, not from the seed.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** 32 lowercase hex characters, like Genesis's unique_ids. */
export function newUniqueId(): string {
  return randomBytes(16).toString('hex');
}

const ARN_DIGITS = 23;

/** An acquirer reference number: 23 digits. */
export function newArn(): string {
  let arn = '';
  for (let i = 0; i < ARN_DIGITS; i++) arn += String(randomInt(10));
  return arn;
}
