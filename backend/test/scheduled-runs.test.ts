/**
 * Scheduled billing runs (issue 18) through the dev QStash server's delayed delivery (Upstash-Not-Before),
 * real nodes, PostgreSQL and the Genesis simulator: a run starts by itself at its time; a rescheduled
 * run ignores the wake-up of its old time; a cancelled one never starts; each action is audited.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../src/audit/actor';
import { getRun } from '../src/billing/runs';
import { cancelScheduledRun, rescheduleRun, scheduleRun } from '../src/billing/scheduled-runs';
import { auditLog, billingAttempts } from '../src/db/schema';
import { startBillingCluster, seedUpload, waitForRun, type BillingCluster } from './support/billing';

let cluster: BillingCluster;

beforeAll(async () => {
  cluster = await startBillingCluster({ nodes: 2 });
});
afterAll(async () => {
  await cluster?.close();
});

const inMs = (ms: number) => new Date(Date.now() + ms);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const schedule = (uploadId: string, startsAt: Date) =>
  scheduleRun(cluster.operator, { selection: { uploadId }, startsAt, actor: cliActor(), createdBy: 'test' });

async function attemptsOf(uploadId: string) {
  return cluster.database.db.select().from(billingAttempts).where(eq(billingAttempts.uploadId, uploadId));
}

async function auditOf(runId: string) {
  const rows = await cluster.database.db.select().from(auditLog).where(and(eq(auditLog.targetKind, 'billing_run'), eq(auditLog.targetId, runId)));
  return rows.map((row) => row.action).sort();
}

describe('a scheduled billing run', () => {
  it('waits for its time, then starts by itself on a node QStash wakes', async () => {
    const { uploadId } = await seedUpload(cluster.database, 3);
    const run = await schedule(uploadId, inMs(2_500));
    expect(run).toMatchObject({ status: 'scheduled', scheduleVersion: 1 });
    await sleep(1_000);
    expect((await getRun(cluster.database.db, run.id))!.status).toBe('scheduled');
    expect((await attemptsOf(uploadId)).every((attempt) => attempt.status === 'pending' && attempt.billingRunId === null)).toBe(true);

    const done = await waitForRun(cluster, run.id, (current) => current.status === 'completed', 30_000);
    expect(done.attemptCount).toBe(3);
    expect((await attemptsOf(uploadId)).every((attempt) => attempt.billingRunId === run.id && attempt.status !== 'pending')).toBe(true);
    expect(await auditOf(run.id)).toEqual(['run.scheduled', 'run.started']);
  });

  it('ignores the wake-up of the time it was rescheduled from', async () => {
    const { uploadId } = await seedUpload(cluster.database, 2);
    const run = await schedule(uploadId, inMs(1_000));
    const moved = await rescheduleRun(cluster.operator, run.id, { startsAt: inMs(4_000), actor: cliActor(), reason: 'debtors asked for the 15th' });
    expect(moved.scheduleVersion).toBe(2);
    // Past the old time: its wake-up was delivered and did nothing.
    await sleep(2_500);
    expect((await getRun(cluster.database.db, run.id))!.status).toBe('scheduled');
    await waitForRun(cluster, run.id, (current) => current.status === 'completed', 30_000);
    expect(await auditOf(run.id)).toEqual(['run.rescheduled', 'run.scheduled', 'run.started']);
  });

  it('never starts once cancelled, leaving its attempts pending for another run', async () => {
    const { uploadId } = await seedUpload(cluster.database, 2);
    const run = await schedule(uploadId, inMs(1_000));
    await cancelScheduledRun(cluster.operator, run.id, { actor: cliActor(), reason: 'wrong file' });
    await sleep(2_500);
    expect((await getRun(cluster.database.db, run.id))!.status).toBe('cancelled');
    expect((await attemptsOf(uploadId)).map((attempt) => attempt.status)).toEqual(['pending', 'pending']);
    await expect(rescheduleRun(cluster.operator, run.id, { startsAt: inMs(5_000), actor: cliActor() })).rejects.toThrow(/cancelled/);
    expect(await auditOf(run.id)).toEqual(['run.cancelled', 'run.scheduled']);
  });

  it('refuses a collection date in the past, scheduling nothing', async () => {
    const { uploadId } = await seedUpload(cluster.database, 1);
    await expect(schedule(uploadId, inMs(-3_600_000))).rejects.toThrow(/in the past/);
  });
});
