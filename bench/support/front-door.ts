/**
 * EMP's front door: HAProxy in front of the Genesis simulator, where EMP would count requests
 * against the rate limit. It logs the moment the first byte of each request arrived (%tr, to the
 * millisecond), and that log is the instrument for "never over the limit in any one-second
 * window". A Node process would time arrivals on its event loop, which on two cores shared with
 * the whole stack waits its turn for the CPU now and then (the simulator's stalled up to 119 ms)
 * and then times the requests that queued meanwhile as arriving together. HAProxy timestamps on
 * reading.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { requireSystemTool } from '../../scripts/system-tools';
import { startCommand } from './processes';

/**
 * HAProxy with the `configs` files in order (one holding frontDoorSections) and `env` (which
 * they may read as "${NAME}"), its output to `log`. It runs at a higher priority, so that on a
 * machine shared with the whole stack it reads each request when it comes rather than when it
 * next gets the CPU; without the right to raise it (not root) it says so and runs anyway. TZ: %tr
 * is written in local time.
 */
export function startFrontDoor(configs: readonly string[], log: string, env: Record<string, string> = {}): ChildProcess {
  const haproxy = startCommand(requireSystemTool('haproxy'), ['-db', ...configs.flatMap((config) => ['-f', config])], { ...env, TZ: 'UTC' }, { log });
  try {
    setPriority(haproxy.pid!, -10);
  } catch (error) {
    console.warn(`HAProxy runs at normal priority (${(error as Error).message}): its one-second counts may bunch under load`);
  }
  return haproxy;
}

/** The HAProxy sections of the front door: a frontend on `port` logging each request to stdout, the simulator behind it. */
export function frontDoorSections(port: number, simulatorPort: number): string {
  return `defaults
  mode http
  timeout connect 5s
  timeout client 2m
  timeout server 2m

frontend emp
  bind 127.0.0.1:${port}
  log stdout format raw local0 info
  log-format "%tr %HM %HP %ST"
  default_backend genesis

backend genesis
  server simulator 127.0.0.1:${simulatorPort}
`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * When each request whose path starts with `pathPrefix` reached the front door, in ms since the
 * epoch, in order; from `log`, HAProxy's output (lines of other kinds are skipped).
 */
export function frontDoorArrivals(log: string, pathPrefix: string, since = 0): number[] {
  const times: number[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    // 29/Nov/2026:09:40:12.345 POST /process/terminal/ 200
    const match = /^(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d)\.(\d{3}) \S+ (\S+)/.exec(line);
    if (!match || !match[8]!.startsWith(pathPrefix)) continue;
    const [day, month, year, hours, minutes, seconds, ms] = match.slice(1, 8);
    const time = Date.UTC(Number(year), MONTHS.indexOf(month!), Number(day), Number(hours), Number(minutes), Number(seconds), Number(ms));
    if (time >= since) times.push(time);
  }
  return times.sort((a, b) => a - b);
}
