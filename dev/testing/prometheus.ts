/**
 * Debian's Prometheus for tests: `promtool` checks and unit-tests deploy/prometheus/, and the
 * end-to-end run starts a real `prometheus` against the stack. Never skipped: without the
 * binaries the tests fail with one line saying how to install them (scripts/system-tools.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireSystemTool } from '../../scripts/system-tools';

export const PROMETHEUS_DEPLOY_DIRECTORY = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

/** Runs promtool; resolves with its exit status and output (stdout and stderr together). */
export function promtool(args: string[], cwd = PROMETHEUS_DEPLOY_DIRECTORY): { status: number | null; output: string } {
  const result = spawnSync(requireSystemTool('promtool'), args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
