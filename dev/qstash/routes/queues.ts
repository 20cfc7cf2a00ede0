/**
 * /v2/queues: upsert (parallelism, paused), list, get, delete, pause, resume. A queue's messages are
 * delivered in order with at most `parallelism` in flight; deleting a queue keeps its messages, which
 * then go out with the default parallelism of 1.
 */
import { badRequest, notFound } from '../api-error';
import { SCHEMA } from '../schema';
import type { ApiContext } from './context';
import { validQueueName } from './publish';

interface QueueRow {
  name: string;
  parallelism: number;
  paused: boolean;
  created_at: string | number;
  updated_at: string | number;
}

const QUEUE_VIEW = `
  select q.*, (select count(*) from ${SCHEMA}.messages m where m.queue_name = q.name) as lag
  from ${SCHEMA}.queues q`;

const queueView = (row: QueueRow & { lag: string | number }) => ({
  name: row.name,
  parallelism: row.parallelism,
  paused: row.paused,
  lag: Number(row.lag),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

export async function upsertQueue(request: Request, context: ApiContext) {
  const payload = (await request.json().catch(() => null)) as { queueName?: unknown; parallelism?: unknown; paused?: unknown } | null;
  if (!payload || typeof payload.queueName !== 'string') throw badRequest('queueName is required');
  const parallelism = payload.parallelism ?? 1;
  if (!Number.isInteger(parallelism) || (parallelism as number) < 1) throw badRequest('parallelism must be at least 1');
  const now = Date.now();
  await context.pool.query(
    `insert into ${SCHEMA}.queues (name, parallelism, paused, created_at, updated_at) values ($1, $2, $3, $4, $4)
     on conflict (name) do update set parallelism = excluded.parallelism, paused = excluded.paused, updated_at = excluded.updated_at`,
    [validQueueName(payload.queueName), parallelism, payload.paused === true, now],
  );
  context.wake();
  return new Response(null, { status: 200 });
}

export async function listQueues(_request: Request, context: ApiContext) {
  const result = await context.pool.query(`${QUEUE_VIEW} order by q.name`);
  return Response.json(result.rows.map(queueView));
}

export async function getQueue(_request: Request, context: ApiContext, [name]: string[]) {
  const result = await context.pool.query(`${QUEUE_VIEW} where q.name = $1`, [name]);
  if (!result.rows[0]) throw notFound(`queue ${name} not found`);
  return Response.json(queueView(result.rows[0]));
}

export async function deleteQueue(_request: Request, context: ApiContext, [name]: string[]) {
  await context.pool.query(`delete from ${SCHEMA}.queues where name = $1`, [name]);
  return new Response(null, { status: 200 });
}

export function pauseOrResumeQueue(paused: boolean) {
  return async (_request: Request, context: ApiContext, [name]: string[]) => {
    const result = await context.pool.query(`update ${SCHEMA}.queues set paused = $2, updated_at = $3 where name = $1`, [
      name,
      paused,
      Date.now(),
    ]);
    if (result.rowCount === 0) throw notFound(`queue ${name} not found`);
    context.wake();
    return new Response(null, { status: 200 });
  };
}
