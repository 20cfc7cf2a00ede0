import { parseAmountCents } from '@tether/shared/amount';
import { parseArgs } from 'node:util';
import { cliActor } from '../../audit/actor';
import { billingContext } from '../../billing/context';
import { RefundRefused, requestRefund } from '../../refunds/request';
import { sendRefund } from '../../refunds/send';
import { idArgument } from '../arguments';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'refunds:request',
  summary: 'Refund an approved billing attempt, whole or in part (an sdd_refund at EMP), with a reason',
  usage: '<attempt id> --reason <text> [--amount <e.g. 12.50>]',
  permission: 'operate',
  async run(args, { io, services }) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { reason: { type: 'string' }, amount: { type: 'string' } },
    });
    const attemptId = idArgument(positionals, 'attempt');
    if (!values.reason) throw new UsageError('--reason is required: say why the debtor gets the money back');
    const amount = values.amount === undefined ? undefined : parseAmountCents(values.amount);
    if (amount && !amount.ok) throw new UsageError(`--amount: ${amount.message}`);
    const context = billingContext(services());
    const actor = cliActor();
    try {
      const refund = await requestRefund(context.db, {
        attemptId,
        amountCents: amount?.ok ? amount.cents : undefined,
        reason: values.reason,
        actor,
        requestedBy: actor.kind === 'cli' ? actor.osUser : 'cli',
      });
      const outcome = await sendRefund(context, refund.id);
      io.out(`refund ${refund.id} (${refund.transactionId}) of ${refund.amountCents} cents ${refund.currency}: ${outcome === 'answered' ? 'sent, EMP answered' : 'recorded, EMP has not answered yet (reconciliation follows it up)'}`);
    } catch (error) {
      if (!(error instanceof RefundRefused)) throw error;
      io.err(`not refunded: ${error.message}`);
      return 1;
    }
  },
});
