/** The operators' CLI for events: listing, showing, replaying, and QStash's dead-letter queue. */
import type { Client } from '@upstash/qstash';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../src/http/listen';
import type { QStashDevServer } from '../../dev/qstash/server';
import { runCli } from '../src/cli/run';
import { loadConfig } from '../src/config';
import { billingAttempts } from '../src/db/schema';
import { eventContext, type EventContext } from '../src/events/context';
import { EMP_EVENTS_PATH } from '../src/events/delivery-route';
import { processEvent } from '../src/events/process';
import { createServices, type Services } from '../src/services';
import { backendEnvironment, startBackend, waitFor, type TestBackend } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startTestEmp } from './support/emp';
import { createAttempt, hex, readEvent, saleNotification } from './support/events';
import { startTestQStash } from '../../dev/testing/qstash';

let database: MigratedTestDatabase;
let qstash: { server: QStashDevServer; client: Client };
let node: TestBackend | undefined;
let services: Services;
let context: EventContext;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url);
  services = createServices(loadConfig(backendEnvironment(database.url, qstash.server.url)), pino({ level: 'silent' }));
  context = eventContext(services);
});
afterAll(async () => {
  await node?.close();
  await services?.close();
  await qstash?.server.close();
  await database?.destroy();
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, () =>
    createServices(loadConfig(backendEnvironment(database.url, qstash.server.url)), pino({ level: 'silent' })),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('the events CLI', () => {
  it('lists every command it has', async () => {
    const { code, out } = await cli('help');
    expect(code).toBe(0);
    for (const name of ['events:list', 'events:show', 'events:replay', 'events:dlq', 'events:dlq-replay', 'events:match-pending']) {
      expect(out).toContain(name);
    }
    expect((await cli('events:nope')).code).toBe(2);
  });

  it('lists events, by outcome', async () => {
    const attempt = await createAttempt(database.db);
    const applied = await processEvent(context, saleNotification(attempt, hex(16), 'approved'));
    const pending = await processEvent(context, saleNotification({ transactionId: `tth_${hex(8)}` }, hex(16), 'approved'));

    const all = await cli('events:list');
    expect(all.code).toBe(0);
    expect(all.out.split('\n')[0]).toMatch(/^id\s+received_at\s+outcome\s+type\s+status/);
    expect(all.out).toMatch(new RegExp(`^${applied.eventId}\\s.*applied`, 'm'));

    const onlyPending = await cli('events:list', '--outcome', 'pending_match', '--limit', '10');
    expect(onlyPending.out).toMatch(new RegExp(`^${pending.eventId}\\s.*pending_match`, 'm'));
    expect(onlyPending.out).not.toMatch(new RegExp(`^${applied.eventId}\\s`, 'm'));

    expect((await cli('events:list', '--outcome', 'bogus')).code).toBe(2);
    expect((await cli('events:list', '--limit', '0')).code).toBe(2);
  });

  it('shows one event with IBANs and names masked', async () => {
    const attempt = await createAttempt(database.db);
    const { eventId } = await processEvent(context, saleNotification(attempt, hex(16), 'approved'));
    const { code, out } = await cli('events:show', String(eventId));
    expect(code).toBe(0);
    expect(out).toContain('"bank_account_number": "DE89**************3000"');
    expect(out).not.toMatch(/DE89370400440532013000|Erika|Mustermann/);
    expect((await cli('events:show', '999999')).code).toBe(1);
  });

  it('replays an event through the apply path, once', async () => {
    const transactionId = `tth_${hex(8)}`;
    const { eventId } = await processEvent(context, saleNotification({ transactionId }, hex(16), 'approved'));
    const attempt = await createAttempt(database.db, { status: 'sending' });
    await database.db.update(billingAttempts).set({ transactionId }).where(eq(billingAttempts.id, attempt.id));

    const replayed = await cli('events:replay', String(eventId));
    expect(replayed).toMatchObject({ code: 0, out: `event ${eventId} replayed: applied` });
    const again = await cli('events:replay', String(eventId));
    expect(again).toMatchObject({ code: 0, out: `event ${eventId} is applied; nothing to do` });
    expect((await readEvent(database.db, eventId)).outcome).toBe('applied');

    expect((await cli('events:replay', '999999')).code).toBe(1);
    expect((await cli('events:replay')).code).toBe(2);
    expect((await cli('events:replay', 'abc')).code).toBe(2);
  });

  it('matches every pending event it can', async () => {
    const { code, out } = await cli('events:match-pending');
    expect(code).toBe(0);
    expect(out).toMatch(/^\d+ pending examined; matched: .*; still pending: \d+$/);
    const [audited] = (await database.db.execute<{ action: string; actor_kind: string }>(sql`select action, actor_kind from audit_log where action = 'events.matched'`)).rows;
    expect(audited).toEqual({ action: 'events.matched', actor_kind: 'cli' });
  });

  it('lists the dead-letter queue and sends its messages again', async () => {
    expect((await cli('events:dlq')).out).toBe('the dead-letter queue is empty');
    // A node that is down: QStash gives up and dead-letters the event.
    const probe = await listen(() => new Response());
    await probe.close();
    const emp = await startTestEmp();
    const attempt = await emp.sale(database.db);
    const event = saleNotification(attempt, attempt.uniqueId, 'approved');
    await qstash.client.publishJSON({
      url: `${probe.url}${EMP_EVENTS_PATH}`,
      retries: 0,
      body: { version: 1, dedupKey: event.dedupKey, receivedAt: event.receivedAt.toISOString(), traceId: hex(8), fields: event.fields },
    });
    await waitFor(async () => (await qstash.client.dlq.listMessages()).messages.length > 0);

    const listed = await cli('events:dlq');
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')[0]).toMatch(/^dlq_id\s+message_id\s+created\s+url\s+status\s+dedup_key/);
    expect(listed.out).toContain(event.dedupKey);
    const [dlqId] = (await qstash.client.dlq.listMessages()).messages.map((message) => message.dlqId);

    node = await startBackend(database.url, qstash.server.url, { port: probe.port, environment: emp.environment });
    expect((await cli('events:dlq-replay')).code).toBe(2);
    const resent = await cli('events:dlq-replay', dlqId!);
    expect(resent.code).toBe(0);
    expect(resent.out).toMatch(/^1 message\(s\) sent again: /);
    await qstash.server.idle();
    // Recorded on delivery, applied once EMP confirmed it.
    await waitFor(async () => {
      const [row] = await database.db.select().from(billingAttempts).where(eq(billingAttempts.id, attempt.id));
      return row!.status === 'approved';
    });
    await emp.close();
    expect((await cli('events:dlq')).out).toBe('the dead-letter queue is empty');
    expect((await cli('events:dlq-replay', 'no-such-dlq-id')).code).not.toBe(0);
  });

  it('runs as `npm run tether` does, exiting with the command’s code', async () => {
    // One run: starting a process under tsx takes seconds on a busy machine.
    const run = (...argv: string[]) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'backend/src/cli/main.ts', ...argv], {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
          env: { ...process.env, ...backendEnvironment(database.url, qstash.server.url) },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let stdout = '';
        child.stdout.on('data', (chunk) => (stdout += String(chunk)));
        child.on('exit', (code) => resolve({ code, stdout }));
      });
    const listed = await run('events:list', '--limit', '1');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^id\s+received_at/);
  }, 30_000);
});
