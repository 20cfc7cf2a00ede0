/**
 * A backend node as its own process, started from a command (the build, an older release), and
 * the check that it works: /health, and one QStash delivery of an EMP notification, signed by the
 * dev QStash server, recorded, confirmed with the Genesis simulator over its API and applied.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Client } from '@upstash/qstash';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { freePort } from '../../../dev/running-server';
import type { QStashDevServer } from '../../../dev/qstash/server';
import { startTestQStash } from '../../../dev/testing/qstash';
import { webhookEvents } from '../../../backend/src/db/schema';
import { EMP_EVENTS_PATH } from '../../../backend/src/events/delivery-route';
import { backendEnvironment, waitFor } from '../../../backend/test/support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from '../../../backend/test/support/database';
import { startTestEmp, type TestEmp } from '../../../backend/test/support/emp';
import { hex, readAttempt, saleNotification } from '../../../backend/test/support/events';

/** What a node process talks to: a database migrated to this checkout's schema, QStash, EMP. */
export interface NodeSurroundings {
  database: MigratedTestDatabase;
  qstash: { server: QStashDevServer; client: Client };
  emp: TestEmp;
  /** A node's variables on `port`; PUBLIC_URL is where QStash reaches it. */
  environment(port: number): Record<string, string>;
  close(): Promise<void>;
}

export async function startNodeSurroundings(): Promise<NodeSurroundings> {
  const database = await createMigratedDatabase();
  const qstash = await startTestQStash(database.url);
  const emp = await startTestEmp();
  return {
    database,
    qstash,
    emp,
    environment: (port) => ({
      ...backendEnvironment(database.url, qstash.server.url),
      ...emp.environment,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      // The schedules would point QStash at a node that is gone when the test ends.
      RECONCILIATION_SCHEDULE_ON_START: 'false',
    }),
    async close() {
      await emp.close();
      await qstash.server.close();
      await database.destroy();
    },
  };
}

export interface NodeProcess {
  url: string;
  child: ChildProcess;
  /** What it wrote to stderr and stdout, for a failure's message. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `command` in `cwd` with exactly `env` (plus PATH) and waits until it answers /health. */
export async function startNodeProcess(command: readonly string[], options: { cwd: string; env: (port: number) => Record<string, string> }): Promise<NodeProcess> {
  const port = await freePort();
  const [file, ...args] = command;
  const child = spawn(file!, args, { cwd: options.cwd, env: { PATH: process.env.PATH, ...options.env(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const up = waitFor(() => fetch(`${url}/health`).then(() => true, () => false), 60_000);
  const ended = exited.then((code) => Promise.reject(new Error(`${command.join(' ')} exited with ${code}:\n${output}`)));
  await Promise.race([up, ended]);
  ended.catch(() => undefined);
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/**
 * The node answers /health, and one EMP approval delivered through QStash to it (signed) ends
 * with the attempt approved: recorded, confirmed with EMP over its API, applied.
 */
export async function expectHealthyAndOneDelivery(node: NodeProcess, surroundings: NodeSurroundings): Promise<void> {
  const health = await fetch(`${node.url}/health`);
  expect(health.status, node.output()).toBe(200);
  expect(await health.json()).toMatchObject({ status: expect.stringMatching(/^(ok|degraded)$/) });

  const { database, qstash, emp } = surroundings;
  const attempt = await emp.sale(database.db, { status: 'submitted' });
  const notification = saleNotification(attempt, attempt.uniqueId, 'approved');
  await qstash.client.publishJSON({
    url: `${node.url}${EMP_EVENTS_PATH}`,
    body: { version: 1, dedupKey: notification.dedupKey, receivedAt: notification.receivedAt.toISOString(), traceId: hex(8), fields: notification.fields },
  });
  const recorded = await waitFor(async () => {
    const [row] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, notification.dedupKey));
    return row?.outcome === 'confirmed' && row;
  }, 30_000).catch((error: Error) => Promise.reject(new Error(`${error.message}; the node said:\n${node.output()}`)));
  expect(recorded).toMatchObject({ outcome: 'confirmed', billingAttemptId: attempt.id });
  expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
}
