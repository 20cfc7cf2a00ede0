/**
 * A backend node killed (SIGKILL) in the middle of applying an event: its transaction never
 * commits, QStash redelivers to the node that takes its place, and the event is applied once.
 */
import type { Client } from '@upstash/qstash';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { and, eq, isNull } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/running-server';
import type { QStashDevServer } from '../../dev/qstash/server';
import { blacklist, webhookEvents } from '../src/db/schema';
import { EMP_EVENTS_PATH } from '../src/events/delivery-route';
import { backendEnvironment, startBackend, waitFor, type TestBackend } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { createAttempt, hex, readAttempt, saleNotification } from './support/events';
import { startTestQStash } from '../../dev/testing/qstash';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

let database: MigratedTestDatabase;
let qstash: { server: QStashDevServer; client: Client };
let replacement: TestBackend | undefined;
let child: ChildProcess | undefined;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url, { retryBackoffMs: () => 250 });
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await replacement?.close();
  await qstash?.server.close();
  await database?.destroy();
});

/** `backend/src/main.ts` as a process of its own, under the same Node as the tests. */
async function startBackendProcess(port: number): Promise<ChildProcess> {
  const url = `http://127.0.0.1:${port}`;
  const started = spawn(process.execPath, ['--import', 'tsx', 'backend/src/main.ts'], {
    cwd: REPOSITORY,
    env: { ...process.env, ...backendEnvironment(database.url, qstash.server.url), HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: url },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(() => fetch(`${url}/health`).then(() => true, () => false), 30_000);
  return started;
}

describe('a backend process killed between receive and commit', () => {
  it('leaves nothing committed, and the redelivery applies the event once', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'approved', empUniqueId: uniqueId });
    const chargeback = saleNotification(attempt, uniqueId, 'chargebacked', { reason_code: 'MD06' });
    const port = await freePort();
    child = await startBackendProcess(port);

    // Listing the IBAN in a transaction left open makes the node's chargeback wait inside its
    // own transaction, event row already written.
    const hold = new pg.Client({ connectionString: database.url });
    await hold.connect();
    await hold.query('begin');
    await hold.query(`insert into blacklist (iban, reason, source) values ($1, 'held by the test', 'operator')`, [attempt.iban]);

    await qstash.client.publishJSON({
      url: `http://127.0.0.1:${port}${EMP_EVENTS_PATH}`,
      retries: 30,
      body: { version: 1, dedupKey: chargeback.dedupKey, receivedAt: chargeback.receivedAt.toISOString(), traceId: hex(8), fields: chargeback.fields },
    });
    await waitFor(async () => {
      const waiting = await database.pool.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike 'insert into "blacklist"%'`,
      );
      return waiting.rowCount! > 0;
    });

    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    child = undefined;
    // Killed before its commit: nothing of the event is visible.
    expect(await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, chargeback.dedupKey))).toEqual([]);
    replacement = await startBackend(database.url, qstash.server.url, { port });
    await hold.query('rollback');
    await hold.end();

    await waitFor(async () => {
      const [event] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, chargeback.dedupKey));
      return event?.outcome === 'applied';
    }, 20_000);
    await qstash.server.idle();

    const events = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, chargeback.dedupKey));
    expect(events).toHaveLength(1);
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history).toHaveLength(1);
    const entries = await database.db
      .select()
      .from(blacklist)
      .where(and(eq(blacklist.iban, attempt.iban), isNull(blacklist.removedAt)));
    expect(entries).toEqual([expect.objectContaining({ source: 'chargeback', sourceEventId: events[0]!.id })]);
  }, 60_000);
});
