/**
 * Who runs a CLI command, and whether they may (issue 17).
 *
 * The CLI runs on a server that holds Tether's database credentials: whoever can run it could
 * change the database directly, so the operating-system account is the real boundary and is
 * trusted as admin-equivalent (that is also how the first admin is created, with no operator to
 * name yet). `--as <operator email>` names the operator acting: the command then runs only if
 * that operator's account is enabled and its role has the command's permission, and the audit
 * log records both the OS user and the operator. A refusal exits with 3 and changes nothing.
 */
import { roleAllows } from '@tether/shared/roles';
import { cliActor } from '../audit/actor';
import type { AuditActor } from '../audit/record';
import { findEnabledOperator, normalizeEmail } from '../auth/operators';
import type { Services } from '../services';
import { UsageError, type Command } from './command';

export const REFUSED_EXIT_CODE = 3;

export class CommandRefused extends Error {
  override name = 'CommandRefused';
}

/** `--as <email>` or `--as=<email>`, anywhere among the arguments; the rest go to the command. */
export function takeAsOption(args: readonly string[]): { as?: string; rest: string[] } {
  const rest: string[] = [];
  let as: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--as' || arg.startsWith('--as=')) {
      if (as !== undefined) throw new UsageError('give --as once');
      as = arg === '--as' ? args[++index] : arg.slice('--as='.length);
      if (!as) throw new UsageError('--as needs an operator email');
    } else rest.push(arg);
  }
  return { as, rest };
}

/** The actor the command runs as; throws CommandRefused when the operator named may not run it. */
export async function authorizeCommand(command: Command, as: string | undefined, services: () => Services): Promise<AuditActor> {
  if (as === undefined) return cliActor();
  const operator = await findEnabledOperator(services().database.db, as);
  if (!operator) throw new CommandRefused(`--as ${normalizeEmail(as)}: no such enabled operator`);
  if (!roleAllows(operator.role, command.permission)) {
    throw new CommandRefused(`${operator.email} (${operator.role}) may not run ${command.name}: it needs the ${command.permission} permission`);
  }
  return cliActor(operator);
}
