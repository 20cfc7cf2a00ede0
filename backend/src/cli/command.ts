/**
 * What a CLI command is. Each command lives in its own file under cli/commands/ and default-exports
 * `defineCommand({...})`; main.ts finds them there, so adding a command touches no other file.
 */
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
}

export interface Command {
  /** `group:verb`, e.g. events:list. */
  name: string;
  summary: string;
  /** Arguments after the name, e.g. `<id>` or `[--limit <n>]`. */
  usage: string;
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
