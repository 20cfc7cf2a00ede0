/**
 * The benchmarks' and the end-to-end harness's child processes: each part of the stack in its
 * own process, as in production, started from this checkout with the pinned Node and tsx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));


const started = new Set<ChildProcess>();
// Children run in process groups of their own (see startCommand); should this process end
// without stopping them, they would live on.
process.once('exit', () => {
  for (const child of started) signalGroup(child, 'SIGKILL');
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/**
 * Runs a command in a process group of its own, so that `stopProcess` also stops what it starts
 * (wrangler starts workerd). `log`: a file for its stdout and stderr, else stdout is dropped
 * and stderr inherited.
 */
export function startCommand(command: string, args: string[], env: Record<string, string>, options: { log?: string } = {}): ChildProcess {
  const output = options.log ? openSync(options.log, 'a') : undefined;
  const child = spawn(command, args, {
    cwd: REPOSITORY,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', output ?? 'ignore', output ?? 'inherit'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** A TypeScript entry point of this repository, under the pinned Node with tsx. */
export function startScript(script: string, env: Record<string, string>, options: { log?: string } = {}): ChildProcess {
  return startCommand(process.execPath, ['--import', 'tsx', script], env, options);
}

export const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  if (!isRunning(child)) return;
  const exited = once(child, 'exit');
  signalGroup(child, signal);
  const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}

/** Polls `probe` until it is true; an error it throws ends the wait at once. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Whether `url` answers with a status `accept`s; an unreachable server is a plain no. Given 5 s,
 * more than a backend's /health takes with a dependency down (each probe's deadline is 2 s).
 */
export const answers = (url: string, accept: (status: number) => boolean = () => true) =>
  fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
    (response) => accept(response.status),
    () => false,
  );

/** Waits until `url` answers at all (any status); fails at once if `child` exits meanwhile. */
export async function waitForUrl(url: string, what: string, child?: ChildProcess, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    async () => {
      if (child && !isRunning(child)) throw new Error(`${what} exited with ${child.exitCode ?? child.signalCode} while starting`);
      return answers(url);
    },
    timeoutMs,
    `${what} at ${url}`,
    200,
  );
}

interface ProcStat {
  comm: string;
  processGroup: number;
  cpuSeconds: number;
}

/** A process's name, group and CPU time so far (user + system), from Linux's /proc; undefined once it is gone. */
function procStat(pid: number | string): ProcStat | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = line.lastIndexOf(')');
    // After the name (which may hold spaces): state, ppid, pgrp, …, utime (12th) and stime (13th), in ticks of 1/100 s.
    const fields = line.slice(close + 2).split(' ');
    return { comm: line.slice(line.indexOf('(') + 1, close), processGroup: Number(fields[2]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far; undefined once it is gone. */
export const cpuSecondsOf = (pid: number): number | undefined => procStat(pid)?.cpuSeconds;

/** Every process's name, group and CPU time so far. */
function procStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) stats.push(stat);
  }
  return stats;
}

/**
 * CPU seconds used so far by each named child's whole process group (wrangler's workerd
 * included) and by the machine's PostgreSQL and Redis servers.
 */
export function cpuSecondsByPart(children: Record<string, ChildProcess | undefined>): Record<string, number> {
  const stats = procStats();
  const sum = (match: (stat: ProcStat) => boolean) => stats.filter(match).reduce((total, stat) => total + stat.cpuSeconds, 0);
  const parts: Record<string, number> = {};
  for (const [name, child] of Object.entries(children)) {
    if (child?.pid !== undefined && isRunning(child)) parts[name] = sum((stat) => stat.processGroup === child.pid);
  }
  parts.postgres = sum((stat) => stat.comm === 'postgres');
  parts.redis = sum((stat) => stat.comm === 'redis-server');
  return parts;
}
