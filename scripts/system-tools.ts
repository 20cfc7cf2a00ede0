/**
 * The system tools the tests run besides Node packages, and how a Debian machine gets them.
 * `npm test` installs the missing ones first (its `pretest` runs ensure-system-tools.ts) when it can, as root
 * with apt-get; otherwise it stops with one line naming each missing tool and how to install it.
 * A test that needs a tool calls requireSystemTool, which fails the same way, never skips: a test
 * run without its tools has not passed.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface SystemTool {
  /** The executable: a name looked up on PATH, or an absolute path. */
  executable: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  /** Who needs it. */
  neededBy: string;
}

export const SYSTEM_TOOLS = {
  haproxy: { executable: 'haproxy', debianPackage: 'haproxy', neededBy: 'the end-to-end suite and the billing benchmark (bench/), deploy/haproxy checks' },
  nginx: { executable: 'nginx', debianPackage: 'nginx', neededBy: 'the deploy/nginx check' },
  chromium: { executable: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', debianPackage: 'chromium', neededBy: 'the dashboard\'s browser tests' },
  pgbouncer: { executable: 'pgbouncer', debianPackage: 'pgbouncer', neededBy: 'the suites run through pgBouncer' },
  prometheus: { executable: 'prometheus', debianPackage: 'prometheus', neededBy: 'the end-to-end run (it watches the stack and checks the QStash backlog alert)' },
  promtool: { executable: 'promtool', debianPackage: 'prometheus', neededBy: 'the alert rules\' checks (deploy/prometheus/)' },
} as const satisfies Record<string, SystemTool>;

export type SystemToolName = keyof typeof SYSTEM_TOOLS;

/** Debian's sbin folders hold haproxy and nginx but are not on every user's PATH. */
const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Where the tool's executable is, or undefined. */
export function findSystemTool(name: SystemToolName): string | undefined {
  const { executable } = SYSTEM_TOOLS[name];
  const candidates = executable.startsWith('/') ? [executable] : SEARCH_PATH.filter(Boolean).map((folder) => join(folder, executable));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function howToInstall(names: readonly SystemToolName[]): string {
  return `apt-get install ${names.map((name) => SYSTEM_TOOLS[name].debianPackage).join(' ')}`;
}

/** The tool's executable; throws one line saying how to install it when it is missing. */
export function requireSystemTool(name: SystemToolName): string {
  const found = findSystemTool(name);
  if (!found) throw new Error(`${SYSTEM_TOOLS[name].executable} is not installed; ${SYSTEM_TOOLS[name].neededBy} need it (${howToInstall([name])}, or run npm test as root, which installs it)`);
  return found;
}

/** Installs the missing tools with apt-get when root and apt-get are there; else one line, thrown. */
export function ensureSystemTools(names: readonly SystemToolName[] = Object.keys(SYSTEM_TOOLS) as SystemToolName[]): void {
  const missing = names.filter((name) => !findSystemTool(name));
  if (missing.length === 0) return;
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) {
    throw new Error(`missing system tools: ${missing.join(', ')}; install them as root: ${howToInstall(missing)}`);
  }
  console.log(`installing ${missing.map((name) => SYSTEM_TOOLS[name].debianPackage).join(', ')} with apt-get`);
  // Another apt-get (or unattended-upgrades) may hold the lock for a while: wait for it.
  const apt = (args: string[]) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const update = apt(['update', '-qq']);
  const install = update.status === 0 ? apt(['install', '-y', '-qq', ...new Set(missing.map((name) => SYSTEM_TOOLS[name].debianPackage))]) : update;
  const stillMissing = missing.filter((name) => !findSystemTool(name));
  if (install.status !== 0 || stillMissing.length > 0) {
    throw new Error(`apt-get could not install ${stillMissing.join(', ') || missing.join(', ')} (exit ${install.status}); install them as root: ${howToInstall(stillMissing.length ? stillMissing : missing)}`);
  }
}
