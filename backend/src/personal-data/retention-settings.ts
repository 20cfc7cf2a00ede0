/**
 * How long Tether keeps personal data it does not need any more (docs/personal-data.md explains
 * each default): raw EMP payloads are reduced to their audit fields after
 * `notificationPayloadDays`, uploaded files and error reports deleted after `uploadFileDays`.
 * Stored in `settings` under one key; admins change them on the dashboard, audited.
 */
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { recordAudit, type AuditActor } from '../audit/record';
import type { Executor } from '../db/executor';
import { settings } from '../db/schema';

const RETENTION_KEY = 'retention';
/** Ten years: longer is not retention any more. */
const MAX_DAYS = 3650;

const days = z.coerce.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(1, 'must be at least 1 day').max(MAX_DAYS, `must be at most ${MAX_DAYS} days`);

export const retentionSettingsSchema = z.strictObject({
  /** 90: a chargeback can arrive up to 8 weeks after the debit (13 months if unauthorised, but then EMP's record, not the notification, is what counts). */
  notificationPayloadDays: days.default(90),
  /** 30: long enough to download the error report and fix the file; the rows live on as debtors and attempts. */
  uploadFileDays: days.default(30),
});

export type RetentionSettings = z.output<typeof retentionSettingsSchema>;

export const DEFAULT_RETENTION: RetentionSettings = retentionSettingsSchema.parse({});

export async function readRetentionSettings(db: Executor): Promise<RetentionSettings & { updatedBy: string | null; updatedAt: Date | null }> {
  const [row] = await db.select().from(settings).where(eq(settings.key, RETENTION_KEY));
  // A stored value a later release no longer reads falls back to the defaults field by field.
  const parsed = retentionSettingsSchema.partial().safeParse(row?.value ?? {});
  return { ...DEFAULT_RETENTION, ...(parsed.success ? parsed.data : {}), updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt ?? null };
}

/** Saves the settings and their audit entry in one transaction; answers what changed. */
export async function saveRetentionSettings(db: Executor, next: RetentionSettings, actor: AuditActor, reason?: string): Promise<{ changed: boolean }> {
  return db.transaction(async (tx) => {
    const { notificationPayloadDays, uploadFileDays } = await readRetentionSettings(tx);
    const before = { notificationPayloadDays, uploadFileDays };
    if (before.notificationPayloadDays === next.notificationPayloadDays && before.uploadFileDays === next.uploadFileDays) return { changed: false };
    const updatedBy = actor.kind === 'system' ? actor.name : (actor.email ?? (actor.kind === 'cli' ? actor.osUser : null));
    await tx
      .insert(settings)
      .values({ key: RETENTION_KEY, value: next, updatedBy })
      .onConflictDoUpdate({ target: settings.key, set: { value: next, updatedBy, updatedAt: sql`now()` } });
    await recordAudit(tx, { actor, action: 'retention.changed', target: { kind: 'settings', id: RETENTION_KEY }, before, after: { ...next }, reason });
    return { changed: true };
  });
}
