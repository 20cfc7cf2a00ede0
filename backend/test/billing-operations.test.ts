/**
 * How operators drive billing and reconciliation: the JSON API, the CLI commands, and the
 * signed QStash delivery routes refusing what QStash did not sign or cannot be read.
 */
import { Hono } from 'hono';
import pino from 'pino';
import { listen, type RunningServer } from '../src/http/listen';
import { eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run';
import { loadConfig } from '../src/config';
import { billingAttempts } from '../src/db/schema';
import { BILLING_BATCH_PATH } from '../src/billing/dispatch';
import { billingRoutes } from '../src/billing/routes';
import { reconciliationRoutes } from '../src/reconciliation/routes';
import { createServices } from '../src/services';
import { waitFor } from './support/backend';
import { seedUpload, startBillingCluster, waitForRun, type BillingCluster } from './support/billing';
import { operatorActor } from '../src/audit/actor';
import { createTestOperator } from './support/operators';
import { userInfo } from 'node:os';

let cluster: BillingCluster;
/** The operators' routes on their own, behind no session check: the app's log-in is tested elsewhere. */
let operatorApi: RunningServer;

beforeAll(async () => {
  cluster = await startBillingCluster({ nodes: 1 });
  const app = new Hono();
  app.route('/', billingRoutes({ context: cluster.operator, actorOf: () => operatorActor({ id: 1, email: 'alice@tether.test', role: 'operator' }) }));
  app.route('/', reconciliationRoutes({ context: cluster.operator }));
  operatorApi = await listen(app.fetch);
});
afterAll(async () => {
  await operatorApi?.close();
  await cluster?.close();
});

const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`${operatorApi.url}${path}`, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json' },
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, () =>
    createServices(loadConfig(cluster.env), pino({ level: 'silent' })),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('the billing API', () => {
  it('starts a run for an upload, shows its progress, and refuses what does not fit', async () => {
    const { uploadId } = await seedUpload(cluster.database, 5);
    const started = await api('/billing/runs', { json: { uploadId } });
    expect(started.status).toBe(201);
    const { run } = (await started.json()) as { run: { id: string; status: string; attemptCount: number } };
    expect(run).toMatchObject({ status: 'running', attemptCount: 5, createdBy: 'alice@tether.test' });

    await waitForRun(cluster, run.id, (current) => current.status === 'completed');
    const shown = (await (await api(`/billing/runs/${run.id}`)).json()) as { run: Record<string, unknown> };
    expect(shown.run).toMatchObject({ status: 'completed', breakerState: 'closed', progress: { byStatus: { approved: 5 }, sent: 5 } });
    const listed = (await (await api('/billing/runs')).json()) as { runs: Array<{ id: string }> };
    expect(listed.runs.map((entry) => entry.id)).toContain(run.id);

    expect((await api('/billing/runs', { json: { uploadId } })).status).toBe(422);
    expect((await api('/billing/runs', { json: { uploadId: 'not-a-uuid' } })).status).toBe(400);
    expect((await api(`/billing/runs/${run.id}/pause`, { method: 'POST' })).status).toBe(409);
    expect((await api('/billing/runs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api('/billing/attempts/999999/release', { method: 'POST' })).status).toBe(409);

    const reconciled = await api('/reconciliation/runs', { json: {} });
    expect(reconciled.status).toBe(200);
    expect(await reconciled.json()).toMatchObject({ kind: 'done', due: { staleClaims: 0 } });
  });
});

describe('the billing CLI', () => {
  it('starts, shows, pauses, resumes and cancels runs, reconciles, schedules and queues VoP', async () => {
    const { code: helpCode, out: help } = await cli('help');
    expect(helpCode).toBe(0);
    for (const name of ['billing:start', 'billing:status', 'billing:pause', 'billing:resume', 'billing:cancel', 'billing:release', 'reconcile:run', 'reconcile:schedule', 'vop:check']) {
      expect(help).toContain(name);
    }

    cluster.sim.control.configureFaults({ latencyMs: 200 });
    const { uploadId, attempts } = await seedUpload(cluster.database, 40);
    await createTestOperator(cluster.database.db, 'alice@tether.test');
    const started = await cli('billing:start', '--upload', uploadId, '--as', 'alice@tether.test');
    expect(started.code).toBe(0);
    const runId = /^run ([0-9a-f-]{36}): running/.exec(started.out)?.[1];
    expect(runId).toBeDefined();
    expect(started.out).toContain(`by ${userInfo().username} as alice@tether.test`);

    expect((await cli('billing:pause', runId!, '--as', 'alice@tether.test')).out).toContain(`paused (by operator: paused by ${userInfo().username} as alice@tether.test)`);
    expect((await cli('billing:status', runId!)).out).toMatch(/attempts 40, sent \d+/);
    expect((await cli('billing:resume', runId!)).code).toBe(0);
    const cancelled = await cli('billing:cancel', runId!);
    expect(cancelled.out).toContain(`run ${runId}: cancelled`);
    expect((await cli('billing:cancel', runId!)).code).toBe(1);
    expect((await cli('billing:status')).out).toContain(runId!);
    expect((await cli('billing:start', '--upload', uploadId, '--due-retries')).code).toBe(2);
    cluster.sim.control.configureFaults({});

    const reconciled = await cli('reconcile:run', '--transactions', '--from', '2026-01-01');
    expect(reconciled.code).toBe(0);
    expect(reconciled.out).toContain('transactions swept:');

    const scheduled = await cli('reconcile:schedule');
    expect(scheduled.out).toContain('tether-reconciliation, tether-reconciliation-sweep');
    const schedules = await cluster.qstash.schedules.list();
    expect(schedules.map((schedule) => schedule.scheduleId).sort()).toEqual(['tether-reconciliation', 'tether-reconciliation-sweep']);
    await cli('reconcile:schedule');
    expect(await cluster.qstash.schedules.list()).toHaveLength(2);

    const fresh = await seedUpload(cluster.database, 3, { name: (index) => (index === 0 ? 'Tom No Match' : `Person ${index}`) });
    expect((await cli('vop:check', '--upload', fresh.uploadId)).out).toBe('3 attempts queued for Verification of Payee');
    await waitFor(async () => {
      const checked = await cluster.database.db.select().from(billingAttempts).where(eq(billingAttempts.uploadId, fresh.uploadId));
      return checked.every((attempt) => attempt.vopResult !== null) && checked;
    });
    const held = await cluster.database.db.select().from(billingAttempts).where(isNotNull(billingAttempts.holdReason));
    expect(held.map((attempt) => attempt.id)).toEqual([fresh.attempts[0]!.id]);
    expect(attempts).toHaveLength(40);
  });
});

describe('the delivery routes', () => {
  it('refuse an unsigned delivery and dead-letter a signed message they cannot read', async () => {
    const deliver = (path: string, body: unknown) =>
      fetch(`${cluster.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const unsigned = await deliver(BILLING_BATCH_PATH, { kind: 'batch', runId: '00000000-0000-4000-8000-000000000000', firstId: 1, lastId: 2 });
    expect(unsigned.status).toBe(401);
    expect((await deliver('/qstash/reconciliation', {})).status).toBe(401);
    expect((await deliver('/qstash/vop/check', { attemptIds: [1] })).status).toBe(401);

    await cluster.qstash.publishJSON({ url: `${cluster.url}${BILLING_BATCH_PATH}`, body: { kind: 'nonsense' }, retries: 3 });
    const dead = await waitFor(async () => {
      const { messages } = await cluster.qstash.dlq.listMessages();
      return messages.find((message) => message.url.endsWith(BILLING_BATCH_PATH));
    });
    expect(dead.responseStatus).toBe(489);
  });
});
