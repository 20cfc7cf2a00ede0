import { Client, Receiver } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QStashDevServer } from '../qstash/server';
import { TEST_QSTASH_KEYS, startTestQStash } from '../testing/qstash';
import { createTestDatabase, type TestDatabase } from '../testing/postgres';
import { sleep, startDestination, waitUntil, type Destination } from './qstash-harness';

let database: TestDatabase;
let server: QStashDevServer;
let client: Client;
let destination: Destination;

beforeAll(async () => {
  database = await createTestDatabase('qstash_schedules');
  ({ server, client } = await startTestQStash(database.url));
  destination = await startDestination();
});

afterAll(async () => {
  await server?.close();
  await destination?.close();
  await database?.drop();
});

const firings = (scheduleId: string) =>
  destination.requests.filter((request) => request.headers.get('upstash-schedule-id') === scheduleId);

describe('schedules', () => {
  it('publishes a signed message on every cron tick until paused or deleted', async () => {
    const url = `${destination.url}/reconcile`;
    // Six fields: every second, so the test does not wait for a minute boundary.
    const { scheduleId } = await client.schedules.create({
      destination: url,
      cron: '* * * * * *',
      body: JSON.stringify({ job: 'reconciliation' }),
      headers: { 'Content-Type': 'application/json' },
      retries: 1,
    });
    await waitUntil(() => firings(scheduleId).length >= 2, 5_000);
    const [fired] = firings(scheduleId);
    expect(fired!.body).toBe('{"job":"reconciliation"}');
    await expect(
      new Receiver({ currentSigningKey: TEST_QSTASH_KEYS.current, nextSigningKey: TEST_QSTASH_KEYS.next }).verify({
        signature: fired!.headers.get('upstash-signature')!,
        body: fired!.body,
        url,
      }),
    ).resolves.toBe(true);

    const listed = await client.schedules.list();
    expect(listed.map((schedule) => schedule.scheduleId)).toContain(scheduleId);
    const schedule = await client.schedules.get(scheduleId);
    expect(schedule).toMatchObject({ scheduleId, cron: '* * * * * *', destination: url, retries: 1, isPaused: false });
    expect(schedule.lastScheduleTime).toBeGreaterThan(0);

    await client.schedules.pause({ schedule: scheduleId });
    await server.idle();
    const whilePaused = firings(scheduleId).length;
    await sleep(1_500);
    expect(firings(scheduleId)).toHaveLength(whilePaused);
    await expect(client.schedules.get(scheduleId)).resolves.toMatchObject({ isPaused: true });

    await client.schedules.resume({ schedule: scheduleId });
    await waitUntil(() => firings(scheduleId).length > whilePaused, 3_000);

    await client.schedules.delete(scheduleId);
    await server.idle();
    const afterDelete = firings(scheduleId).length;
    await sleep(1_500);
    expect(firings(scheduleId)).toHaveLength(afterDelete);
    await expect(client.schedules.get(scheduleId)).rejects.toMatchObject({ status: 404 });
  });

  it('takes QStash five-field crons with CRON_TZ and a chosen schedule id, and updates it in place', async () => {
    const url = `${destination.url}/nightly`;
    await client.schedules.create({ destination: url, cron: 'CRON_TZ=Europe/Berlin 0 4 * * *', scheduleId: 'nightly-reconciliation' });
    const created = await client.schedules.get('nightly-reconciliation');
    const next = new Date(created.nextScheduleTime!);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(next)).toBe(
      '04:00',
    );
    await client.schedules.create({ destination: url, cron: '30 5 * * *', scheduleId: 'nightly-reconciliation' });
    const updated = await client.schedules.get('nightly-reconciliation');
    expect(new Date(updated.nextScheduleTime!).toISOString()).toMatch(/T05:30:00\.000Z$/);
    expect((await client.schedules.list()).filter((schedule) => schedule.scheduleId === 'nightly-reconciliation')).toHaveLength(1);
    await expect(client.schedules.create({ destination: url, cron: 'not a cron' })).rejects.toMatchObject({ status: 400 });
  });
});
