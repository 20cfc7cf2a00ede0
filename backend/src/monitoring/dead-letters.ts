/**
 * How many messages QStash's dead-letter queue holds: QStash has no count, so they are listed,
 * 100 a page, up to `limit`. For the status page (up to 100) and /metrics (up to 1,000).
 */
import type { Client as QStashClient } from '@upstash/qstash';

export async function countDeadLetters(qstash: QStashClient, limit: number): Promise<{ count: number; more: boolean }> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await qstash.dlq.listMessages({ count: Math.min(100, limit - count), cursor });
    count += page.messages.length;
    cursor = page.cursor;
  } while (cursor && count < limit);
  return { count: Math.min(count, limit), more: cursor !== undefined && cursor !== '' };
}
