/** POST /v2/schedules/{destination} (create or, with Upstash-Schedule-Id, update), list, get, delete, pause, resume. */
import { badRequest, notFound } from '../api-error';
import { validateCron } from '../cron';
import { newId } from '../ids';
import { readDelayMs, readMessageSpec } from '../message-spec';
import {
  deleteSchedule as removeSchedule,
  getSchedule as findSchedule,
  listSchedules as allSchedules,
  scheduleView,
  setSchedulePaused,
  upsertSchedule,
} from '../schedules';
import type { ApiContext } from './context';
import { validQueueName } from './publish';

export async function createSchedule(request: Request, context: ApiContext, destination: string) {
  const cron = request.headers.get('upstash-cron');
  if (!cron) throw badRequest('Upstash-Cron header is required');
  validateCron(cron);
  const scheduleId = request.headers.get('upstash-schedule-id') ?? newId('scd');
  if (!/^[A-Za-z0-9._-]+$/.test(scheduleId)) throw badRequest(`invalid schedule id: ${scheduleId}`);
  const queueName = request.headers.get('upstash-queue-name');
  const spec = readMessageSpec(request.headers, destination, {
    queueName: queueName === null ? null : validQueueName(queueName),
    scheduleId,
  });
  const body = Buffer.from(await request.arrayBuffer());
  await upsertSchedule(context.pool, { scheduleId, cron, spec, body, delayMs: readDelayMs(request.headers) }, Date.now());
  return Response.json({ scheduleId });
}

export async function listSchedules(_request: Request, context: ApiContext) {
  return Response.json((await allSchedules(context.pool)).map(scheduleView));
}

export async function getSchedule(_request: Request, context: ApiContext, [scheduleId]: string[]) {
  const schedule = await findSchedule(context.pool, scheduleId!);
  if (!schedule) throw notFound(`schedule ${scheduleId} not found`);
  return Response.json(scheduleView(schedule));
}

export async function deleteSchedule(_request: Request, context: ApiContext, [scheduleId]: string[]) {
  if (!(await removeSchedule(context.pool, scheduleId!))) throw notFound(`schedule ${scheduleId} not found`);
  return new Response(null, { status: 200 });
}

export function pauseOrResumeSchedule(paused: boolean) {
  return async (_request: Request, context: ApiContext, [scheduleId]: string[]) => {
    if (!(await setSchedulePaused(context.pool, scheduleId!, paused, Date.now()))) {
      throw notFound(`schedule ${scheduleId} not found`);
    }
    return new Response(null, { status: 200 });
  };
}
