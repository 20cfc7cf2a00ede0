/**
 * Sending dead-lettered QStash messages again, from the dashboard or the CLI. QStash is not in
 * Tether's database, so the audit entry cannot share a transaction with the resend: it is written
 * right after QStash accepted it, naming what was sent again (a resent EMP event is still applied
 * exactly once, events/process.ts).
 */
import type { Client as QStashClient } from '@upstash/qstash';
import { recordAudit, type AuditActor } from '../audit/record';
import type { Executor } from '../db/executor';

/** `ids`: the dead letters to send again, or 'all'. Answers the new message ids. */
export async function resendDeadLetters(qstash: QStashClient, db: Executor, ids: string[] | 'all', actor: AuditActor): Promise<string[]> {
  const resent: string[] = [];
  if (ids === 'all') {
    let cursor: string | undefined;
    do {
      const page = await qstash.dlq.retry({ all: true, cursor });
      resent.push(...page.responses.map((response) => response.messageId));
      cursor = page.cursor;
    } while (cursor);
  } else {
    const { responses } = await qstash.dlq.retry(ids);
    resent.push(...responses.map((response) => response.messageId));
  }
  if (resent.length > 0) {
    await recordAudit(db, {
      actor,
      action: 'dead_letters.resent',
      target: { kind: 'dead_letters', id: ids === 'all' ? 'all' : ids.join(',').slice(0, 500) },
      after: { requested: ids === 'all' ? 'all' : ids.length, resent: resent.length, messageIds: resent.slice(0, 100) },
    });
  }
  return resent;
}
