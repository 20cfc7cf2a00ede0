/**
 * The operators' billing API (JSON), for the dashboard:
 *
 *   POST /billing/runs                 {uploadId} | {attemptIds} | {dueRetries: true}
 *                                      → 201 {run}; 422 when no pending attempt matches
 *   GET  /billing/runs                 → {runs: [...]}, newest first (?limit=, at most 200)
 *   GET  /billing/runs/:id             → {run}: status, pause reason, breaker state, progress
 *   POST /billing/runs/:id/pause       → {run}; 409 unless running
 *   POST /billing/runs/:id/resume      → {run}; 409 unless paused
 *   POST /billing/runs/:id/cancel      → {run}; 409 unless running or paused
 *   POST /billing/runs/scheduled       {selection: {uploadId} | {dueRetries: true}, startsAt: ISO date-time}
 *                                      → 201 {run} (status scheduled; starts by itself, scheduled-runs.ts)
 *   POST /billing/runs/:id/reschedule  {startsAt, reason?} → {run}; 409 unless scheduled
 *   POST /billing/runs/:id/unschedule  {reason?} → {run} cancelled; 409 unless scheduled
 *   POST /billing/attempts/:id/release → {attemptId, hold}: lifts a hold (e.g. a VoP no-match); 409 if not held
 *
 * The session and role checks run in front of every route (app.ts); `actorOf` names who acted,
 * for the run's record and the audit log.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorName, type AuditActor } from '../audit/record';
import type { BillingContext } from './context';
import { releaseHold } from './holds';
import { cancelScheduledRun, rescheduleRun, scheduleRun } from './scheduled-runs';
import { requirePermission } from '../auth/permissions';
import {
  BillingRunError,
  cancelRun,
  getRun,
  listRuns,
  pauseRun,
  resumeRun,
  runProgress,
  startRun,
  type BillingRun,
  type RunProgress,
} from './runs';

const startRequest = z.union([
  z.strictObject({ uploadId: z.uuid() }),
  z.strictObject({ attemptIds: z.array(z.number().int().positive()).min(1).max(100_000) }),
  z.strictObject({ dueRetries: z.literal(true) }),
]);

const scheduleRequest = z.strictObject({
  selection: z.union([z.strictObject({ uploadId: z.uuid() }), z.strictObject({ dueRetries: z.literal(true) })]),
  startsAt: z.iso.datetime({ offset: true }),
});
const rescheduleRequest = z.strictObject({ startsAt: z.iso.datetime({ offset: true }), reason: z.string().max(500).optional() });
const unscheduleRequest = z.strictObject({ reason: z.string().max(500).optional() });

function runView(run: BillingRun, progress?: RunProgress) {
  return {
    id: run.id,
    status: run.status,
    scheduledFor: run.scheduledFor?.toISOString() ?? null,
    selection: run.selection,
    attemptCount: run.attemptCount,
    pausedBy: run.pausedBy,
    pauseReason: run.pauseReason,
    breakerState: run.breakerState,
    progress: progress ?? null,
    counts: run.counts,
    createdBy: run.createdBy,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    pausedAt: run.pausedAt?.toISOString() ?? null,
    completedAt: run.completedAt?.toISOString() ?? null,
    cancelledAt: run.cancelledAt?.toISOString() ?? null,
  };
}

export interface BillingRouteOptions {
  context: BillingContext;
  actorOf: (c: Context) => AuditActor;
}

export function billingRoutes({ context, actorOf }: BillingRouteOptions) {
  const app = new Hono();
  const runId = (c: Context) => {
    const parsed = z.uuid().safeParse(c.req.param('id'));
    if (!parsed.success) throw new BillingRunError(404, 'no such billing run');
    return parsed.data;
  };
  const withProgress = async (run: BillingRun) => runView(run, await runProgress(context.db, run.id));

  app.onError((error, c) => {
    if (error instanceof BillingRunError) return c.json({ error: error.message }, error.status);
    context.log.error({ error: error.message, path: c.req.path }, 'billing request failed');
    return c.json({ error: 'internal error' }, 500);
  });

  app.post('/billing/runs', async (c) => {
    const parsed = startRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: 'give uploadId, attemptIds or dueRetries', issues: parsed.error.issues }, 400);
    const run = await startRun(context, { selection: parsed.data, actor: actorOf(c) });
    return c.json({ run: await withProgress(run) }, 201);
  });
  const body = async <T extends z.ZodType>(c: Context, schema: T) => {
    const parsed = schema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw new BillingRunError(422, `invalid request: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
    return parsed.data as z.output<T>;
  };
  app.post('/billing/runs/scheduled', requirePermission('operate'), async (c) => {
    const request = await body(c, scheduleRequest);
    const run = await scheduleRun(context, { selection: request.selection, startsAt: new Date(request.startsAt), actor: actorOf(c), createdBy: actorName(actorOf(c)) });
    return c.json({ run: runView(run) }, 201);
  });
  app.post('/billing/runs/:id/reschedule', requirePermission('operate'), async (c) => {
    const request = await body(c, rescheduleRequest);
    return c.json({ run: runView(await rescheduleRun(context, runId(c), { startsAt: new Date(request.startsAt), actor: actorOf(c), reason: request.reason })) });
  });
  app.post('/billing/runs/:id/unschedule', requirePermission('operate'), async (c) => {
    const request = await body(c, unscheduleRequest);
    return c.json({ run: runView(await cancelScheduledRun(context, runId(c), { actor: actorOf(c), reason: request.reason })) });
  });
  app.get('/billing/runs', async (c) => {
    const limit = Math.min(200, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    return c.json({ runs: (await listRuns(context.db, limit)).map((run) => runView(run)) });
  });
  app.get('/billing/runs/:id', async (c) => {
    const run = await getRun(context.db, runId(c));
    if (!run) throw new BillingRunError(404, 'no such billing run');
    return c.json({ run: await withProgress(run) });
  });
  app.post('/billing/runs/:id/pause', async (c) => c.json({ run: await withProgress(await pauseRun(context, runId(c), actorOf(c))) }));
  app.post('/billing/runs/:id/resume', async (c) => c.json({ run: await withProgress(await resumeRun(context, runId(c), actorOf(c))) }));
  app.post('/billing/runs/:id/cancel', async (c) => c.json({ run: await withProgress(await cancelRun(context, runId(c), actorOf(c))) }));
  app.post('/billing/attempts/:id/release', async (c) => {
    const attemptId = Number(c.req.param('id'));
    if (!Number.isSafeInteger(attemptId) || attemptId <= 0) throw new BillingRunError(404, 'no such attempt');
    const result = await releaseHold(context, attemptId, actorOf(c));
    if (!result.released) return c.json({ error: `attempt ${attemptId} is not a held pending attempt` }, 409);
    return c.json({ attemptId, hold: result.reason });
  });
  return app;
}
