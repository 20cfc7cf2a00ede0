/**
 * Child processes of the local stack (backend nodes, `wrangler dev`): their output prefixed
 * with their name, and stopped together when the stack stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string, write: (line: string) => void) {
  if (!stream) return;
  createInterface({ input: stream }).on('line', (line) => write(`${prefix} ${line}\n`));
}

export function startProcess(
  name: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; onExit?: (code: number | null) => void },
): ManagedProcess {
  // process.execPath is the project's pinned Node 22, which npm scripts run under.
  const child = spawn(process.execPath, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}]`;
  prefixLines(child.stdout, prefix, (line) => process.stdout.write(line));
  prefixLines(child.stderr, prefix, (line) => process.stderr.write(line));
  let exited = false;
  child.once('exit', (code) => {
    exited = true;
    options.onExit?.(code);
  });
  return {
    name,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Polls `url` until it answers 200, or fails after `timeoutMs` with the last reason. */
export async function waitForHealthy(url: string, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let lastReason = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body: unknown = await response.json().catch(() => undefined);
      if (response.ok) return body;
      lastReason = `HTTP ${response.status}: ${JSON.stringify(body)}`;
    } catch (error) {
      lastReason = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not become healthy within ${timeoutMs / 1000} s (${lastReason})`);
}
