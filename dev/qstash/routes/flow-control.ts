/**
 * GET /v2/flowControl/{key}, the part of QStash's flow-control monitoring API that the official
 * client's `flowControl.get` calls: how many messages of the key wait (due, but held back by its
 * rate or parallelism) and how many are in flight. A key never used answers 404, as QStash does.
 * Pause, pin and reset are not implemented.
 */
import { notFound } from '../api-error';
import { SCHEMA } from '../schema';
import type { ApiContext } from './context';

export async function getFlowControl(_request: Request, context: ApiContext, [key]: string[]) {
  const groupKey = `flow:${key}`;
  const now = Date.now();
  const result = await context.pool.query<{ waiting: string; in_flight: string; known: boolean; parallelism: number | null; rate: number | null; period_ms: number | null }>(
    `select count(*) filter (where lease_until <= $2 and next_at <= $2) as waiting,
            count(*) filter (where lease_until > $2) as in_flight,
            exists (select 1 from ${SCHEMA}.flow_state where group_key = $1) or count(*) > 0 as known,
            max(flow_parallelism) as parallelism, max(flow_rate) as rate, max(flow_period_ms) as period_ms
     from ${SCHEMA}.messages where group_key = $1`,
    [groupKey, now],
  );
  const row = result.rows[0]!;
  if (!row.known) throw notFound(`flow control key ${key} not found`);
  return Response.json({
    flowControlKey: key,
    waitListSize: Number(row.waiting),
    parallelismMax: row.parallelism ?? 0,
    parallelismCount: Number(row.in_flight),
    rateMax: row.rate ?? 0,
    ratePeriod: row.period_ms === null ? 0 : row.period_ms / 1000,
    isPaused: false,
    isPinnedParallelism: false,
    isPinnedRate: false,
  });
}
