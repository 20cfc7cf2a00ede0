/**
 * The server's own tables, in schema qstash_dev of whatever database it is given. Times are unix
 * milliseconds (bigint) so that every comparison is against the same clock the server computes with.
 */
import type pg from 'pg';
import { inTransaction } from './transaction';

export const SCHEMA = 'qstash_dev';

/** Columns a message keeps from publish until it is delivered, cancelled or dead-lettered. */
const MESSAGE_COLUMNS = `
  message_id text not null,
  url text not null,
  method text not null,
  headers jsonb not null,
  body bytea not null,
  max_retries integer not null,
  retried integer not null default 0,
  timeout_ms integer,
  callback text,
  failure_callback text,
  flow_key text,
  flow_rate integer,
  flow_period_ms integer,
  flow_parallelism integer,
  queue_name text,
  schedule_id text,
  label text,
  not_before bigint not null,
  created_at bigint not null`;

const DDL = `
create schema if not exists ${SCHEMA};

create table if not exists ${SCHEMA}.messages (
  ${MESSAGE_COLUMNS},
  -- When the next attempt may start. Claiming a message pushes this past the claim's lease, so a
  -- message whose deliverer died becomes due again by itself.
  next_at bigint not null,
  lease_until bigint not null default 0,
  -- Messages sharing a flow-control key or a queue are limited together.
  group_key text generated always as (
    case when queue_name is not null then 'queue:' || queue_name
         when flow_key is not null then 'flow:' || flow_key end) stored,
  primary key (message_id)
);
create index if not exists messages_due on ${SCHEMA}.messages (next_at) where group_key is null;
create index if not exists messages_group_due on ${SCHEMA}.messages (group_key, next_at) where group_key is not null;

create table if not exists ${SCHEMA}.deduplication (
  dedup_key text primary key,
  message_id text not null,
  expires_at bigint not null
);

create table if not exists ${SCHEMA}.flow_state (
  group_key text primary key,
  recent_starts bigint[] not null default '{}'
);

create table if not exists ${SCHEMA}.dlq (
  dlq_id text primary key,
  seq bigserial not null unique,
  ${MESSAGE_COLUMNS},
  response_status integer,
  response_headers jsonb,
  response_body bytea,
  error text,
  failed_at bigint not null
);

create table if not exists ${SCHEMA}.queues (
  name text primary key,
  parallelism integer not null default 1,
  paused boolean not null default false,
  created_at bigint not null,
  updated_at bigint not null
);

create table if not exists ${SCHEMA}.schedules (
  schedule_id text primary key,
  cron text not null,
  spec jsonb not null,
  body bytea not null,
  delay_ms bigint not null default 0,
  paused boolean not null default false,
  created_at bigint not null,
  next_run_at bigint not null,
  last_run_at bigint,
  last_message_id text
);
create index if not exists schedules_due on ${SCHEMA}.schedules (next_run_at) where not paused;
`;

// Instances starting together on one database would otherwise race on "create ... if not exists".
// Transaction-scoped, so that it holds behind a pooler in transaction mode as well.
const SCHEMA_LOCK_ID = 7_406_277;

export async function ensureSchema(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
    await client.query(DDL);
  });
}
