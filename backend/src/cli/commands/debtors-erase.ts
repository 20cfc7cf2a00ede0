import { cliActor } from '../../audit/actor';
import { personalDataContext } from '../../personal-data/context';
import { eraseDebtor, ErasureRefused } from '../../personal-data/erasure';
import { positiveInteger } from '../arguments';
import { defineCommand, UsageError } from '../command';

const MIN_REASON = 3;

export default defineCommand({
  name: 'debtors:erase',
  summary: "Erase a debtor on request (GDPR Art. 17): name, IBAN, email, address replaced by a pseudonym in every row and file with the debtor's IBAN",
  usage: '<debtor id> --reason <why, e.g. the request ticket>',
  permission: 'administer',
  async run(args, { io, services }) {
    const reasonAt = args.indexOf('--reason');
    const reason = reasonAt >= 0 ? args[reasonAt + 1]?.trim() : undefined;
    const positional = args.filter((_, index) => index !== reasonAt && index !== reasonAt + 1);
    if (positional.length !== 1) throw new UsageError('expected one debtor id');
    if (!reason || reason.length < MIN_REASON) throw new UsageError(`--reason of ${MIN_REASON} characters or more is required`);
    const debtorId = positiveInteger(positional[0], 'the debtor id', 0);
    try {
      const result = await eraseDebtor(personalDataContext(services()), { debtorId, actor: cliActor(), reason });
      io.out(`erased as ${result.pseudonym}: debtors ${result.debtorIds.join(', ')}; attempts cancelled ${result.attemptsCancelled}; uploads' files deleted ${result.uploadIds.length}`);
    } catch (error) {
      if (!(error instanceof ErasureRefused)) throw error;
      io.err(error.message);
      return 1;
    }
  },
});
