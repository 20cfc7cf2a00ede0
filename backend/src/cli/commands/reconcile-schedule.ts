import { billingContext } from '../../billing/context';
import { ensureReconciliationSchedules } from '../../reconciliation/schedule';
import { defineCommand } from '../command';

export default defineCommand({
  name: 'reconcile:schedule',
  permission: 'administer',
  summary: 'Create or update the QStash schedules of reconciliation (RECONCILIATION_CRON, RECONCILIATION_SWEEP_CRON); idempotent',
  usage: '',
  async run(_args, { io, services }) {
    const context = billingContext(services());
    const ids = await ensureReconciliationSchedules(context);
    io.out(`schedules ${ids.join(', ')} → ${context.publicUrl}`);
  },
});
