import { ensureRetentionSchedule } from '../../personal-data/schedule';
import { defineCommand } from '../command';

export default defineCommand({
  name: 'retention:schedule',
  summary: 'Create or update the QStash schedule of the retention sweep (RETENTION_SWEEP_CRON); idempotent',
  usage: '',
  permission: 'administer',
  async run(_args, { io, services }) {
    const { qstash, config } = services();
    const id = await ensureRetentionSchedule({ qstash, publicUrl: config.http.publicUrl, cron: config.personalData.retentionSweepCron });
    io.out(`schedule ${id} → ${config.http.publicUrl}`);
  },
});
