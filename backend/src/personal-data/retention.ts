/**
 * The retention sweep: what the settings say Tether no longer keeps, it removes. Raw EMP payloads
 * (and EMP's stored answers) older than `notificationPayloadDays` are reduced to their audit
 * fields; uploads finished more than `uploadFileDays` ago lose their original file and error
 * report from object storage, and the rejected cells' values copied from the file. Counts,
 * statuses, amounts and the events' outcomes stay. Where the bucket has a lifecycle rule
 * (docs/personal-data.md) the objects are gone already and deleting them again is harmless.
 *
 * Runs daily on a QStash schedule (RETENTION_SWEEP_CRON) and as `retention:sweep`. Each pass is
 * one transaction with its audit entry, bounded so a first sweep over years of data does not
 * hold one transaction for hours; `more` says another pass has work.
 */
import { reduceToAuditFields } from '@tether/shared/genesis-audit-fields';
import { sql } from 'drizzle-orm';
import { recordAudit, type AuditActor } from '../audit/record';
import { deleteUploadObjects, markUploadObjectsDeleted } from '../uploads/stored-objects';
import type { PersonalDataContext } from './context';
import { readRetentionSettings } from './retention-settings';

const EVENTS_PER_PASS = 5_000;
const UPLOADS_PER_PASS = 200;

/** The confirmer still needs the whole claim of a notification it has not judged yet. */
const UNJUDGED = 'awaiting_confirmation';

/** An upload's rejected cells are blanked to this once its file is gone. */
export const DELETED_VALUE = '[deleted]';

export interface SweepResult {
  eventsReduced: number;
  uploadsCleared: number;
  more: boolean;
}

export async function sweepOnce(context: PersonalDataContext, actor: AuditActor): Promise<SweepResult> {
  const { db } = context.database;
  const retention = await readRetentionSettings(db);

  // Objects first, outside the transaction: deleting one twice is harmless, keeping one is not.
  const { rows: uploads } = await db.execute<{ id: string; file_key: string; error_report_key: string | null }>(sql`
    select id::text, file_key, error_report_key from uploads
    where files_deleted_at is null and status not in ('uploaded', 'queued', 'processing')
      and coalesce(completed_at, updated_at) < now() - ${retention.uploadFileDays} * interval '1 day'
    order by created_at limit ${UPLOADS_PER_PASS}`);
  for (const upload of uploads) await deleteUploadObjects(context.storage, { id: upload.id, fileKey: upload.file_key, errorReportKey: upload.error_report_key });

  const result = await db.transaction(async (tx) => {
    const { rows: events } = await tx.execute<{ id: number; payload: Record<string, unknown>; emp_answer: Record<string, unknown> | null }>(sql`
      select id, payload, emp_answer from webhook_events
      where payload_reduced_at is null and outcome <> ${UNJUDGED}
        and received_at < now() - ${retention.notificationPayloadDays} * interval '1 day'
      order by id limit ${EVENTS_PER_PASS}
      for update skip locked`);
    if (events.length > 0) {
      const reduced = events.map((event) => ({
        id: event.id,
        payload: reduceToAuditFields(event.payload),
        emp_answer: event.emp_answer ? reduceToAuditFields(event.emp_answer) : null,
      }));
      await tx.execute(sql`
        update webhook_events e set payload = r.payload, emp_answer = r.emp_answer, payload_reduced_at = now()
        from jsonb_to_recordset(${JSON.stringify(reduced)}::jsonb) as r(id bigint, payload jsonb, emp_answer jsonb)
        where e.id = r.id`);
    }
    const uploadIds = uploads.map((upload) => upload.id);
    if (uploadIds.length > 0) {
      await markUploadObjectsDeleted(tx, uploadIds);
      await tx.execute(sql`update upload_errors set value = ${DELETED_VALUE} where upload_id = any(${sql.param(uploadIds)}::uuid[])`);
    }
    const swept = { eventsReduced: events.length, uploadsCleared: uploadIds.length };
    if (swept.eventsReduced > 0 || swept.uploadsCleared > 0) {
      await recordAudit(tx, {
        actor,
        action: 'retention.swept',
        target: { kind: 'settings', id: 'retention' },
        after: { ...swept, notificationPayloadDays: retention.notificationPayloadDays, uploadFileDays: retention.uploadFileDays, uploads: uploadIds },
      });
    }
    return swept;
  });
  return { ...result, more: result.eventsReduced === EVENTS_PER_PASS || result.uploadsCleared === UPLOADS_PER_PASS };
}

/** Passes until nothing is left; answers the totals. */
export async function sweepRetention(context: PersonalDataContext, actor: AuditActor): Promise<SweepResult> {
  const total: SweepResult = { eventsReduced: 0, uploadsCleared: 0, more: false };
  for (;;) {
    const pass = await sweepOnce(context, actor);
    total.eventsReduced += pass.eventsReduced;
    total.uploadsCleared += pass.uploadsCleared;
    if (!pass.more) break;
  }
  context.log.info({ eventsReduced: total.eventsReduced, uploadsCleared: total.uploadsCleared }, 'retention sweep done');
  return total;
}
