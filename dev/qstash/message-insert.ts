/**
 * Inserting messages: any number in one statement, each either new or, when its deduplication key
 * is held by a message published within the window, accepted as a duplicate and not enqueued.
 */
import { newId } from './ids';
import type { MessageSpec } from './message-spec';
import type { Queryable } from './message-store';
import { SCHEMA } from './schema';

/** QStash keeps deduplication ids for ten minutes. */
export const DEDUPLICATION_WINDOW_MS = 10 * 60_000;

export interface NewMessage {
  spec: MessageSpec;
  body: Uint8Array;
  notBefore: number;
  now: number;
  dedupKey?: string | null;
}

export interface PublishResult {
  messageId: string;
  deduplicated: boolean;
}

const INPUT_COLUMNS: [name: string, type: string, value: (message: NewMessage, messageId: string) => unknown][] = [
  ['message_id', 'text', (_, messageId) => messageId],
  ['url', 'text', ({ spec }) => spec.url],
  ['method', 'text', ({ spec }) => spec.method],
  ['headers', 'jsonb', ({ spec }) => JSON.stringify(spec.headers)],
  ['body', 'bytea', ({ body }) => Buffer.from(body.buffer, body.byteOffset, body.byteLength)],
  ['max_retries', 'int4', ({ spec }) => spec.maxRetries],
  ['timeout_ms', 'int4', ({ spec }) => spec.timeoutMs],
  ['callback', 'text', ({ spec }) => spec.callback],
  ['failure_callback', 'text', ({ spec }) => spec.failureCallback],
  ['flow_key', 'text', ({ spec }) => spec.flowControl?.key ?? null],
  ['flow_rate', 'int4', ({ spec }) => spec.flowControl?.rate ?? null],
  ['flow_period_ms', 'int4', ({ spec }) => spec.flowControl?.periodMs ?? null],
  ['flow_parallelism', 'int4', ({ spec }) => spec.flowControl?.parallelism ?? null],
  ['queue_name', 'text', ({ spec }) => spec.queueName],
  ['schedule_id', 'text', ({ spec }) => spec.scheduleId],
  ['label', 'text', ({ spec }) => spec.label],
  ['not_before', 'int8', ({ notBefore }) => notBefore],
  ['created_at', 'int8', ({ now }) => now],
  ['dedup_key', 'text', ({ dedupKey }) => dedupKey ?? null],
];

const STORED_COLUMNS = INPUT_COLUMNS.map(([name]) => name).filter((name) => name !== 'dedup_key');

// The final select reads the deduplication table as it was before this statement, so for a
// duplicate it finds the id of the message that holds the key.
const INSERT_MESSAGES = `
with input as (
  select * from unnest(${INPUT_COLUMNS.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ')})
    as input(${INPUT_COLUMNS.map(([name]) => name).join(', ')})
),
taken as (
  insert into ${SCHEMA}.deduplication (dedup_key, message_id, expires_at)
  select dedup_key, message_id, created_at + ${DEDUPLICATION_WINDOW_MS} from input where dedup_key is not null
  on conflict (dedup_key) do update set message_id = excluded.message_id, expires_at = excluded.expires_at
    where ${SCHEMA}.deduplication.expires_at <= excluded.expires_at - ${DEDUPLICATION_WINDOW_MS}
  returning message_id
),
inserted as (
  insert into ${SCHEMA}.messages (${STORED_COLUMNS.join(', ')}, next_at)
  select ${STORED_COLUMNS.join(', ')}, not_before from input
  where dedup_key is null or message_id in (select message_id from taken)
  returning message_id
)
select input.message_id, held.message_id as holder_id,
       exists (select 1 from inserted where inserted.message_id = input.message_id) as inserted
from input left join ${SCHEMA}.deduplication held on held.dedup_key = input.dedup_key`;

/** Inserts the messages in one statement; results are in the order of `messages`. */
export async function insertMessages(db: Queryable, messages: NewMessage[]): Promise<PublishResult[]> {
  // A key repeated within one call would make the upsert touch a row twice, which PostgreSQL
  // refuses; only its first occurrence goes to the database, the others are its duplicates.
  const firstWithKey = new Map<string, number>();
  const leaders: number[] = [];
  const followerOf = messages.map((message, index) => {
    const first = message.dedupKey ? firstWithKey.get(message.dedupKey) : undefined;
    if (first !== undefined) return first;
    if (message.dedupKey) firstWithKey.set(message.dedupKey, index);
    leaders.push(index);
    return null;
  });
  const ids = messages.map(() => newId('msg'));
  const result = await db.query<{ message_id: string; holder_id: string | null; inserted: boolean }>({
    // Named, so each connection parses and plans the publish statement once.
    name: 'qstash-insert-messages',
    text: INSERT_MESSAGES,
    values: INPUT_COLUMNS.map(([, , value]) => leaders.map((index) => value(messages[index]!, ids[index]!))),
  });
  const outcomes = new Map(result.rows.map((row) => [row.message_id, row]));
  const results: PublishResult[] = [];
  for (const [index, first] of followerOf.entries()) {
    if (first !== null) {
      results.push({ messageId: results[first]!.messageId, deduplicated: true });
      continue;
    }
    const outcome = outcomes.get(ids[index]!)!;
    results.push(
      outcome.inserted
        ? { messageId: ids[index]!, deduplicated: false }
        : { messageId: outcome.holder_id ?? ids[index]!, deduplicated: true },
    );
  }
  return results;
}

export async function insertMessage(db: Queryable, message: NewMessage): Promise<PublishResult> {
  const [result] = await insertMessages(db, [message]);
  return result!;
}
