/**
 * The delivery endpoint end to end: events published through the dev QStash server (the official
 * Client publishing, signed deliveries the real Receiver checks, retries) to backend nodes in
 * this process, on one PostgreSQL database, with the Genesis simulator as EMP: each notification
 * is recorded once, confirmed with EMP, and its confirmed effect applied once.
 */
import type { Client } from '@upstash/qstash';
import { and, eq, isNull, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDelivery } from '../../dev/qstash/signing';
import type { QStashDevServer } from '../../dev/qstash/server';
import { blacklist, webhookEvents } from '../src/db/schema';
import { eventMetrics } from '../src/events/metrics';
import type { IncomingEvent } from '../src/events/process';
import { startBackend, type TestBackend } from './support/backend';
import { startTestEmp, type TestEmp } from './support/emp';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { createAttempt, forwarded, hex, readAttempt, saleNotification } from './support/events';
import { TEST_QSTASH_KEYS, startTestQStash } from '../../dev/testing/qstash';

let database: MigratedTestDatabase;
let qstash: { server: QStashDevServer; client: Client };
let emp: TestEmp;
let nodeA: TestBackend;
let nodeB: TestBackend;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url);
  emp = await startTestEmp();
  const options = { environment: emp.environment };
  [nodeA, nodeB] = await Promise.all([startBackend(database.url, qstash.server.url, options), startBackend(database.url, qstash.server.url, options)]);
});
afterAll(async () => {
  await Promise.all([nodeA?.close(), nodeB?.close()]);
  await emp?.close();
  await qstash?.server.close();
  await database?.destroy();
});

/** The body the edge publishes for an event. */
function body(event: IncomingEvent) {
  return { version: 1, dedupKey: event.dedupKey, receivedAt: event.receivedAt.toISOString(), traceId: event.traceId ?? hex(8), fields: event.fields };
}

async function publish(url: string, event: IncomingEvent) {
  await qstash.client.publishJSON({ url, body: body(event) });
}

async function eventRows(dedupKey: string) {
  return database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, dedupKey));
}

async function activeEntries(iban: string) {
  return database.db
    .select()
    .from(blacklist)
    .where(and(eq(blacklist.iban, iban), isNull(blacklist.removedAt)));
}

async function dlqSize() {
  return (await qstash.client.dlq.listMessages()).messages.length;
}

/** Opens a transaction that lists the IBAN without committing: applying a chargeback for it waits. */
async function blockBlacklistInsert(iban: string) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('begin');
  await client.query(`insert into blacklist (iban, reason, source) values ($1, 'test holds this row', 'operator')`, [iban]);
  return {
    rollback: async () => {
      await client.query('rollback');
      await client.end();
    },
  };
}

async function sessionsWaitingToBlacklist(): Promise<number[]> {
  const result = await database.pool.query<{ pid: number }>(
    `select pid from pg_stat_activity
     where datname = current_database() and wait_event_type = 'Lock' and query ilike 'insert into "blacklist"%'`,
  );
  return result.rows.map((row) => row.pid);
}

async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('POST /qstash/emp-events', () => {
  it('applies a signed delivery once, however often QStash delivers it', async () => {
    const attempt = await emp.sale(database.db, { status: 'submitted' });
    const approved = saleNotification(attempt, attempt.uniqueId, 'approved');
    for (let i = 0; i < 3; i++) await publish(nodeA.eventsUrl, approved);
    await qstash.server.idle();
    await until(async () => (await eventRows(approved.dedupKey))[0]?.outcome === 'confirmed');

    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('approved');
    expect(row.history).toHaveLength(1);
    expect(await eventRows(approved.dedupKey)).toHaveLength(1);
    const metrics = await (await fetch(`${nodeA.url}/metrics`)).text();
    expect(metrics).toMatch(/^tether_events_processed_total\{outcome="applied"\} [1-9]/m);
    expect(metrics).toMatch(/^tether_events_processed_total\{outcome="confirmed"\} [1-9]/m);
    expect(metrics).toMatch(/^tether_events_duplicates_total [2-9]/m);
    expect(metrics).toMatch(/^tether_event_receive_to_commit_seconds_count [1-9]/m);
  });

  it('applies concurrent duplicate deliveries to two backend nodes once', async () => {
    const attempt = await emp.sale(database.db, { status: 'approved' });
    emp.sim.control.chargeback(attempt.uniqueId, { reasonCode: 'MD06' });
    // The reference's chargeback notification: on the sale's own unique_id (docs/genesis-protocol.md).
    const chargeback = forwarded({
      transaction_id: attempt.transactionId,
      unique_id: attempt.uniqueId,
      transaction_type: 'sdd_sale',
      status: 'chargebacked',
      event: 'chargeback',
      amount: '1990',
    });
    // Every delivery but the one that recorded the notification is counted as a duplicate.
    const deliveriesSeen = async () => {
      let total = 0;
      for (const node of [nodeA, nodeB]) total += (await eventMetrics(node.services.metrics).duplicates.get()).values[0]?.value ?? 0;
      return total;
    };
    const before = await deliveriesSeen();
    const hold = await blockBlacklistInsert(attempt.iban);
    try {
      for (let i = 0; i < 3; i++) {
        await publish(nodeA.eventsUrl, chargeback);
        await publish(nodeB.eventsUrl, chargeback);
      }
      // The confirmed effect is inside its transaction, waiting to list the IBAN, when the hold ends.
      await until(async () => (await sessionsWaitingToBlacklist()).length > 0);
    } finally {
      await hold.rollback();
    }
    await qstash.server.idle();
    await until(async () => (await eventRows(chargeback.dedupKey))[0]?.outcome === 'confirmed');

    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    const [event, ...others] = await eventRows(chargeback.dedupKey);
    expect(others).toEqual([]);
    expect(event).toMatchObject({ outcome: 'confirmed', billingAttemptId: attempt.id });
    // EMP's chargeback record carried the reason code and the move; the reconciled status changed nothing more.
    const [listing] = await activeEntries(attempt.iban);
    expect(listing).toMatchObject({ reasonCode: 'MD06', source: 'chargeback' });
    expect(row.history.filter((entry) => (entry as { outcome?: string }).outcome === 'applied')).toHaveLength(1);
    expect(await dlqSize()).toBe(0);
    expect((await deliveriesSeen()) - before).toBe(5);
  });

  it('survives the confirmed effect\'s transaction aborted before its commit: the notification waits, then is applied once', async () => {
    const attempt = await emp.sale(database.db, { status: 'approved' });
    emp.sim.control.chargeback(attempt.uniqueId, { reasonCode: 'AC04' });
    const chargeback = saleNotification(attempt, attempt.uniqueId, 'chargebacked', { event: 'chargeback' });
    const hold = await blockBlacklistInsert(attempt.iban);
    try {
      await publish(nodeA.eventsUrl, chargeback);
      const [pid] = await until(async () => {
        const pids = await sessionsWaitingToBlacklist();
        return pids.length > 0 && pids;
      });
      // The effect is written but not committed when the session dies.
      await database.pool.query('select pg_terminate_backend($1)', [pid]);
      const [waiting] = await until(async () => {
        const rows = await eventRows(chargeback.dedupKey);
        return rows[0]?.error?.startsWith('not settled yet') && rows;
      });
      expect(waiting!.outcome).toBe('awaiting_confirmation');
      expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
    } finally {
      await hold.rollback();
    }
    await until(async () => (await eventRows(chargeback.dedupKey))[0]?.outcome === 'confirmed', 20_000);
    await qstash.server.idle();

    const [event] = await eventRows(chargeback.dedupKey);
    expect(event).toMatchObject({ outcome: 'confirmed' });
    expect(event!.attempts).toBeGreaterThanOrEqual(2);
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history.filter((entry) => (entry as { outcome?: string }).outcome === 'applied')).toHaveLength(1);
    expect(await activeEntries(attempt.iban)).toHaveLength(1);
  });

  describe('refuses with 401 and changes nothing', () => {
    async function deliver(url: string, payload: string, signature?: string) {
      return fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature && { 'upstash-signature': signature }) },
        body: payload,
      });
    }
    const sign = (key: string, url: string, payload: string) => signDelivery(key, url, new TextEncoder().encode(payload));

    it.each([
      ['unsigned', async (_url: string, _payload: string) => undefined],
      ['tampered', async (url: string, payload: string) => sign(TEST_QSTASH_KEYS.current, url, payload.replace('approved', 'declined'))],
      ['signed with another key', async (url: string, payload: string) => sign('sig_someone_else', url, payload)],
      ['signed for another URL', async (_url: string, payload: string) => sign(TEST_QSTASH_KEYS.current, nodeB.eventsUrl, payload)],
    ])('a delivery %s', async (_case, signatureFor) => {
      const attempt = await createAttempt(database.db, { status: 'submitted' });
      const event = saleNotification(attempt, hex(16), 'approved');
      const payload = JSON.stringify(body(event));
      const response = await deliver(nodeA.eventsUrl, payload, await signatureFor(nodeA.eventsUrl, payload));
      expect(response.status).toBe(401);
      expect(await eventRows(event.dedupKey)).toEqual([]);
      expect(await readAttempt(database.db, attempt.id)).toMatchObject({ status: 'submitted', history: [] });
    });

    it('but accepts the next signing key, for key rotation', async () => {
      const attempt = await emp.sale(database.db, { status: 'submitted' });
      const event = saleNotification(attempt, attempt.uniqueId, 'approved');
      const payload = JSON.stringify(body(event));
      const response = await deliver(nodeA.eventsUrl, payload, await sign(TEST_QSTASH_KEYS.next, nodeA.eventsUrl, payload));
      expect(response.status).toBe(200);
      await until(async () => (await readAttempt(database.db, attempt.id)).status === 'approved');
    });
  });

  describe('a signed but malformed delivery', () => {
    async function deliverSigned(payload: string) {
      return fetch(nodeA.eventsUrl, {
        method: 'POST',
        headers: { 'upstash-signature': await signDelivery(TEST_QSTASH_KEYS.current, nodeA.eventsUrl, new TextEncoder().encode(payload)) },
        body: payload,
      });
    }

    it('without a dedup key goes straight to the dead-letter queue (489, non-retryable)', async () => {
      const response = await deliverSigned('{"hello":"world"}');
      expect(response.status).toBe(489);
      expect(response.headers.get('upstash-nonretryable-error')).toBe('true');
      const notJson = await deliverSigned('not json');
      expect(notJson.status).toBe(489);
    });

    it('with a dedup key is recorded as a failed event and acknowledged', async () => {
      const dedupKey = `emp:api:${hex(16)}:sdd_sale::approved`;
      const response = await deliverSigned(JSON.stringify({ version: 2, dedupKey, receivedAt: 'yesterday', fields: { unique_id: 'x' } }));
      expect(response.status).toBe(200);
      const [event] = await eventRows(dedupKey);
      expect(event).toMatchObject({ outcome: 'failed', payload: { unique_id: 'x' } });
      expect(event!.error).toMatch(/^malformed event: version/);
    });
  });

  it('serves Prometheus metrics in the text format', async () => {
    const response = await fetch(`${nodeB.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toContain('# TYPE tether_event_receive_to_commit_seconds histogram');
  });
});

describe('database consistency after the deliveries above', () => {
  it('has no event applied twice', async () => {
    const duplicates = await database.db.execute(sql`select dedup_key from webhook_events group by dedup_key having count(*) > 1`);
    expect(duplicates.rows).toEqual([]);
  });
});
