/**
 * The edge under test, started as a child process: `wrangler dev` (the Worker in workerd) or
 * the Node entry. Its output goes to a log file; it counts as started once /health is 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Runtime = 'workerd' | 'node';

export interface Target {
  runtime: Runtime;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the edge exited with ${child.exitCode} while starting`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the edge at ${url} was not healthy within ${timeoutMs} ms`);
}

function command(runtime: Runtime, vars: Record<string, string>, port: number): { args: string[]; env: NodeJS.ProcessEnv } {
  if (runtime === 'node') {
    return {
      args: ['--import', 'tsx', 'edge/src/node.ts'],
      env: { ...process.env, ...vars, HOST: '127.0.0.1', PORT: String(port) },
    };
  }
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
  return {
    args: ['node_modules/wrangler/bin/wrangler.js', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'log', ...varArgs],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  };
}

export async function startTarget(runtime: Runtime, vars: Record<string, string>, port: number, logFile: string): Promise<Target> {
  const { args, env } = command(runtime, vars, port);
  // Its own process group, so that stopping it also stops workerd, which wrangler starts.
  const child = spawn(process.execPath, args, { cwd: repositoryRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  try {
    await waitForHealth(url, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { runtime, url, logFile, stop };
}
