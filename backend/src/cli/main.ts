/**
 * The operators' CLI: `npm run tether -- <command> [arguments]`. Output on stdout, diagnostics
 * and logs on stderr; exit code 0 on success, 1 on failure, 2 on bad usage.
 */
import type { CliOutput } from './command';
import { runCli } from './run';

const terminal: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

// exitCode rather than exit(): a piped stdout is written asynchronously and must drain first.
runCli(process.argv.slice(2), terminal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    terminal.err(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
