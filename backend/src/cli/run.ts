/**
 * Runs one CLI command: finds it among cli/commands/*.ts (*.js in the build, backend/dist/commands/),
 * checks who runs it (cli/authorize.ts), gives it the backend's services (made from the environment
 * on first use unless given) and turns what happens into an exit code.
 */
import { readdir } from 'node:fs/promises';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../log';
import { createServices, type Services } from '../services';
import { authorizeCommand, CommandRefused, REFUSED_EXIT_CODE, takeAsOption } from './authorize';
import { UsageError, type CliOutput, type Command } from './command';

const COMMANDS_DIR = new URL('./commands/', import.meta.url);

export async function loadCommands(): Promise<Map<string, Command>> {
  const files = (await readdir(COMMANDS_DIR)).filter((file) => /\.[jt]s$/.test(file) && !file.endsWith('.d.ts')).sort();
  const commands = new Map<string, Command>();
  for (const file of files) {
    const module = (await import(new URL(file, COMMANDS_DIR).href)) as { default?: Command };
    if (!module.default) throw new Error(`cli/commands/${file} has no default export`);
    commands.set(module.default.name, module.default);
  }
  return commands;
}

function help(commands: Map<string, Command>, io: CliOutput) {
  io.out('usage: npm run tether -- <command> [arguments] [--as <operator email>]\n');
  const width = Math.max(...[...commands.keys()].map((name) => name.length));
  for (const command of [...commands.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    io.out(`  ${command.name.padEnd(width)}  ${command.summary}`);
    io.out(`  ${' '.repeat(width)}  ${command.name} ${command.usage}`.trimEnd());
  }
}

function servicesFromEnvironment(): Services {
  return createServices(loadConfig(), createLogger({ level: 'warn', name: 'tether-cli', destination: pino.destination(2) }));
}

export async function runCli(
  argv: string[],
  io: CliOutput,
  makeServices: () => Services = servicesFromEnvironment,
  commands?: Map<string, Command>,
): Promise<number> {
  commands ??= await loadCommands();
  const [name, ...given] = argv;
  if (!name || name === 'help' || name === '--help') {
    help(commands, io);
    return name ? 0 : 2;
  }
  const command = commands.get(name);
  if (!command) {
    io.err(`unknown command: ${name}`);
    help(commands, io);
    return 2;
  }
  let services: Services | undefined;
  const lazyServices = () => (services ??= makeServices());
  try {
    const { as, rest } = takeAsOption(given);
    const actor = await authorizeCommand(command, as, lazyServices);
    return (await command.run(rest, { io, services: lazyServices, actor })) ?? 0;
  } catch (error) {
    if (error instanceof CommandRefused) {
      io.err(error.message);
      return REFUSED_EXIT_CODE;
    }
    if (error instanceof UsageError) {
      io.err(`${error.message}\nusage: ${command.name} ${command.usage}`);
      return 2;
    }
    io.err(error instanceof ConfigError ? error.message : `${command.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await services?.close();
  }
}
