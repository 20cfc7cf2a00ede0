import { parseArgs } from 'node:util';
import { recordAudit } from '../../audit/record';
import { billingContext } from '../../billing/context';
import { runReconciliation } from '../../reconciliation/pass';
import { defineCommand, UsageError } from '../command';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export default defineCommand({
  name: 'reconcile:run',
  permission: 'operate',
  summary: 'Reconcile now: stale, unknown and long-submitted attempts, chargebacks by date, retries; --transactions also sweeps every transaction by date',
  usage: '[--transactions] [--from <YYYY-MM-DD> [--to <YYYY-MM-DD>]]',
  async run(args, { io, services, actor }) {
    const { values } = parseArgs({ args, options: { transactions: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' } } });
    if ((values.from !== undefined && !DAY.test(values.from)) || (values.to !== undefined && !DAY.test(values.to))) {
      throw new UsageError('--from and --to are dates, YYYY-MM-DD');
    }
    if (values.to !== undefined && values.from === undefined) throw new UsageError('--to needs --from');
    const outcome = await runReconciliation(billingContext(services()), {
      transactions: values.transactions,
      range: values.from ? { startDate: values.from, endDate: values.to ?? new Date().toISOString().slice(0, 10) } : undefined,
    });
    if (outcome.kind === 'busy') {
      io.err('another reconciliation pass is running; try again when it is done');
      return 1;
    }
    const { due, chargebacks, transactions, retriesScheduled, retryRunId, matched, runsCompleted } = outcome;
    // After the pass: it commits what EMP says in transactions of its own, as the scheduled pass does.
    await recordAudit(services().database.db, {
      actor,
      action: 'reconciliation.run',
      after: { staleClaims: due.staleClaims, reconciled: due.reconciled, chargebackRecords: chargebacks.records, retriesScheduled, retryRunId, range: values.from ? { from: values.from, to: values.to } : null },
    });
    const reconciled = Object.entries(due.reconciled).map(([result, count]) => `${count} ${result}`).join(', ') || 'none';
    io.out(`stale claims: ${due.staleClaims}; attempts reconciled: ${reconciled}`);
    io.out(`chargeback records: ${chargebacks.records} (${chargebacks.recorded} new, ${chargebacks.unusable} without an original)`);
    if (transactions) io.out(`transactions swept: ${transactions.transactions} (${transactions.applied} applied, ${transactions.foreign} not Tether's)`);
    io.out(`retries scheduled: ${retriesScheduled}${retryRunId ? `; run ${retryRunId} started for the due ones` : ''}`);
    io.out(`pending events examined: ${matched.examined}, still pending: ${matched.stillPending}; runs completed: ${runsCompleted}`);
  },
});
