/**
 * What a CLI command is. Each command lives in its own file under cli/commands/ and default-exports
 * `defineCommand({...})`; main.ts finds them there, so adding a command touches no other file.
 * Every command names the permission it needs (shared/src/roles.ts), checked before it runs
 * (cli/authorize.ts).
 */
import type { Permission } from '@tether/shared/roles';
import type { AuditActor } from '../audit/record';
import type { Services } from '../services';

export interface CliOutput {
  /** A line of the command's result, on stdout. */
  out(line: string): void;
  /** A diagnostic, on stderr. */
  err(line: string): void;
}

export interface CommandContext {
  io: CliOutput;
  /** The backend's services, made on first use from the environment (as a node does). */
  services(): Services;
  /** Who runs the command, for what it records and the audit log: the OS user, and the operator named with --as. */
  actor: AuditActor;
}

export interface Command {
  /** `group:verb`, e.g. events:list. */
  name: string;
  summary: string;
  /** Arguments after the name, e.g. `<id>` or `[--limit <n>]`. */
  usage: string;
  /** What the operator named with --as must be allowed: read, operate or administer. */
  permission: Permission;
  /** Resolves to the exit code (0 when omitted); throws UsageError for bad arguments. */
  run(args: string[], context: CommandContext): Promise<number | void>;
}

export function defineCommand(command: Command): Command {
  return command;
}

/** Bad arguments: main prints the message and the command's usage, and exits with 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
