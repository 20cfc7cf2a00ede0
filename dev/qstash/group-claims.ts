/**
 * Claiming for messages that share a flow-control key or a queue. Each key's window state lives in
 * flow_state and is locked while a batch is claimed, so the limits hold across every instance on
 * the database; in-flight deliveries are the key's messages under an unexpired lease.
 */
import type pg from 'pg';
import { flowWindow, type FlowControl } from './flow-control';
import type { MessageStore, StoredMessage } from './message-store';
import { SCHEMA } from './schema';
import { inTransaction } from './transaction';

interface DueGroup {
  groupKey: string;
  limits: Pick<FlowControl, 'rate' | 'periodMs' | 'parallelism'>;
}

interface DueGroupRow {
  group_key: string;
  flow_rate: number | null;
  flow_period_ms: number | null;
  flow_parallelism: number | null;
  queue_name: string | null;
  queue_parallelism: number | null;
  paused: boolean;
}

// The newest message of a key carries its configuration, as in QStash; a queue's comes from its upsert.
const DUE_GROUPS = `
  select g.*, q.parallelism as queue_parallelism, coalesce(q.paused, false) as paused
  from (select distinct on (group_key) group_key, flow_rate, flow_period_ms, flow_parallelism, queue_name
        from ${SCHEMA}.messages where group_key is not null and next_at <= $1
        order by group_key, created_at desc) g
  left join ${SCHEMA}.queues q on q.name = g.queue_name`;

export async function listDueGroups(pool: pg.Pool, now: number): Promise<DueGroup[]> {
  const result = await pool.query<DueGroupRow>(DUE_GROUPS, [now]);
  return result.rows
    .filter((row) => !row.paused)
    .map((row) => ({
      groupKey: row.group_key,
      limits:
        row.queue_name !== null
          ? { rate: null, periodMs: 1_000, parallelism: row.queue_parallelism ?? 1 }
          : { rate: row.flow_rate, periodMs: row.flow_period_ms ?? 1_000, parallelism: row.flow_parallelism },
    }));
}

export interface GroupClaim {
  messages: StoredMessage[];
  /** When the key's rate lets the next delivery start, if the rate is what holds it back. */
  nextOpeningAt: number | null;
}

export async function claimFromGroup(
  pool: pg.Pool,
  store: MessageStore,
  group: DueGroup,
  limit: number,
): Promise<GroupClaim> {
  return inTransaction(pool, async (client) => {
    const state = await client.query<{ recent_starts: (string | number)[] }>(
      `insert into ${SCHEMA}.flow_state (group_key) values ($1)
       on conflict (group_key) do update set group_key = excluded.group_key
       returning recent_starts`,
      [group.groupKey],
    );
    // Read the clock only now that the key is locked: a start recorded earlier than the request
    // really leaves would let the next window open too soon.
    const now = Date.now();
    const inFlight = await client.query<{ count: string }>(
      `select count(*) from ${SCHEMA}.messages where group_key = $1 and lease_until > $2`,
      [group.groupKey, now],
    );
    const window = flowWindow(
      group.limits,
      { recentStarts: state.rows[0]!.recent_starts.map(Number), inFlight: Number(inFlight.rows[0]!.count) },
      now,
    );
    const wanted = Math.min(window.available, limit);
    const messages = wanted > 0 ? await store.claimGroup(group.groupKey, now, wanted, client) : [];
    const startedAt = Date.now();
    // Only a rate needs start times; a parallelism-only key would just grow the array.
    const starts = group.limits.rate === null ? [] : [...window.recentStarts, ...messages.map(() => startedAt)];
    await client.query(`update ${SCHEMA}.flow_state set recent_starts = $2::int8[] where group_key = $1`, [
      group.groupKey,
      starts,
    ]);
    const rateFull = group.limits.rate !== null && starts.length >= group.limits.rate;
    return {
      messages,
      nextOpeningAt: rateFull ? flowWindow(group.limits, { recentStarts: starts, inFlight: 0 }, startedAt).nextOpeningAt : null,
    };
  });
}
