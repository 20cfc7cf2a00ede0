/**
 * Starts the stand-ins (stand-ins.ts) before the edge's tests, which run inside workerd, and
 * hands their URLs to the Worker as bindings (vitest.config.ts). They run in a child Node
 * process: this project resolves modules for workerd, which Node-only packages (ioredis, pg)
 * do not survive.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    edgeBindings: Record<string, string>;
  }
}

/** A URL nothing listens on: the port was free a moment ago and is closed again. */
function unusedUrl(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}

export default async function setup(project: TestProject) {
  const script = fileURLToPath(new URL('./stand-ins.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const firstLine = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line').then(([line]) => String(line)),
    exited.then(([code]) => Promise.reject(new Error(`edge stand-ins exited with ${code} before starting`))),
  ]);
  const { SINK_URL, ...vars } = JSON.parse(firstLine) as Record<string, string>;

  project.provide('edgeBindings', { ...vars, TEST_SINK_URL: SINK_URL!, TEST_UNUSED_URL: await unusedUrl() });

  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}
