/**
 * A backend node killed (SIGKILL) in the middle of applying a confirmed notification: its
 * transaction never commits, the notification stays recorded and waiting, and another node
 * confirms and applies it once.
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
import { startTestEmp, type TestEmp } from './support/emp';
import { hex, readAttempt, saleNotification } from './support/events';
import { billingContext } from '../src/billing/context';
import { confirmAllDue } from '../src/confirmation/confirm';
import { startTestQStash } from '../../dev/testing/qstash';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

let database: MigratedTestDatabase;
let qstash: { server: QStashDevServer; client: Client };
let emp: TestEmp;
let replacement: TestBackend | undefined;
let child: ChildProcess | undefined;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url, { retryBackoffMs: () => 250 });
  emp = await startTestEmp();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await replacement?.close();
  await emp?.close();
  await qstash?.server.close();
  await database?.destroy();
});

/** `backend/src/main.ts` as a process of its own, under the same Node as the tests. */
async function startBackendProcess(port: number): Promise<ChildProcess> {
  const url = `http://127.0.0.1:${port}`;
  const started = spawn(process.execPath, ['--import', 'tsx', 'backend/src/main.ts'], {
    cwd: REPOSITORY,
    env: { ...process.env, ...backendEnvironment(database.url, qstash.server.url), ...emp.environment, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: url },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(() => fetch(`${url}/health`).then(() => true, () => false), 30_000);
  return started;
}

describe('a backend process killed while applying a confirmed notification', () => {
  it('leaves the notification waiting, never applied unconfirmed, and another node applies it once', async () => {
    const attempt = await emp.sale(database.db, { status: 'approved' });
    emp.sim.control.chargeback(attempt.uniqueId, { reasonCode: 'MD06' });
    const chargeback = saleNotification(attempt, attempt.uniqueId, 'chargebacked', { event: 'chargeback' });
    const port = await freePort();
    child = await startBackendProcess(port);

    // Listing the IBAN in a transaction left open makes the node's confirmed chargeback wait
    // inside its own transaction, its effect already written.
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
    // The notification was recorded (QStash was answered) and waits under the dead node's lease;
    // nothing of its effect is visible.
    const [recorded] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, chargeback.dedupKey));
    expect(recorded).toMatchObject({ outcome: 'awaiting_confirmation' });
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
    await hold.query('rollback');
    await hold.end();

    replacement = await startBackend(database.url, qstash.server.url, { port, environment: emp.environment });
    // The lease of the dead node ends (60 s; ended here rather than waited for), and the next
    // pass on any node (the replacement's confirmer, or a reconciliation pass as here) confirms
    // and applies the notification.
    await database.pool.query(`update webhook_events set confirm_after = now() where dedup_key = $1`, [chargeback.dedupKey]);
    await confirmAllDue(billingContext(replacement.services));
    await waitFor(async () => {
      const [event] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, chargeback.dedupKey));
      return event?.outcome === 'confirmed';
    });

    const events = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, chargeback.dedupKey));
    expect(events).toEqual([expect.objectContaining({ outcome: 'confirmed' })]);
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history.filter((entry) => (entry as { outcome?: string }).outcome === 'applied')).toHaveLength(1);
    const entries = await database.db
      .select()
      .from(blacklist)
      .where(and(eq(blacklist.iban, attempt.iban), isNull(blacklist.removedAt)));
    expect(entries).toEqual([expect.objectContaining({ source: 'chargeback', reasonCode: 'MD06' })]);
  }, 60_000);
});
