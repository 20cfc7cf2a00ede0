/**
 * Debian's Prometheus for tests: `promtool` checks and unit-tests deploy/prometheus/, and the
 * end-to-end run starts a real `prometheus` against the stack. Never skipped: without the
 * binaries the tests fail with one line saying how to install them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROMETHEUS_DEPLOY_DIRECTORY = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

/** Throws one line naming the missing binary and the package that has it. */
export function requirePrometheus(binary: 'prometheus' | 'promtool', purpose: string): void {
  if (spawnSync(binary, ['--version']).error) throw new Error(`${binary} is not installed: ${purpose} (apt-get install prometheus)`);
}

/** Runs promtool; resolves with its exit status and output (stdout and stderr together). */
export function promtool(args: string[], cwd = PROMETHEUS_DEPLOY_DIRECTORY): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
