/** Reading the arguments commands share; a bad one is a UsageError. */
import { isRole, ROLES, type Role } from '@tether/shared/roles';
import { UsageError } from './command';

export function positiveInteger(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new UsageError(`${option} must be a positive whole number`);
  return parsed;
}

/** The one positional argument of commands like `events:replay <id>`. */
export function idArgument(args: readonly string[], what: string): number {
  if (args.length !== 1) throw new UsageError(`expected one ${what} id`);
  return positiveInteger(args[0], `the ${what} id`, 0);
}

export function roleOption(value: string, option: string): Role {
  if (!isRole(value)) throw new UsageError(`${option} must be one of ${ROLES.join(', ')}`);
  return value;
}
