/**
 * The retention sweep on a QStash schedule (RETENTION_SWEEP_CRON), under a fixed id so that every
 * start-up and every `retention:schedule` updates the one schedule, as reconciliation's are kept.
 */
import type { Client as QStashClient } from '@upstash/qstash';
import { z } from 'zod';

export const RETENTION_SWEEP_PATH = '/qstash/retention-sweep';
const SCHEDULE_ID = 'tether-retention-sweep';

export const retentionSweepMessageSchema = z.object({});

export async function ensureRetentionSchedule(context: { qstash: QStashClient; publicUrl: string; cron: string }): Promise<string> {
  const { scheduleId } = await context.qstash.schedules.create({
    scheduleId: SCHEDULE_ID,
    destination: `${context.publicUrl}${RETENTION_SWEEP_PATH}`,
    cron: context.cron,
    body: '{}',
    headers: { 'content-type': 'application/json' },
    retries: 3,
  });
  return scheduleId;
}
