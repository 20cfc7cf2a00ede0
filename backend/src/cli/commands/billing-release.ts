import { parseArgs } from 'node:util';
import { billingContext } from '../../billing/context';
import { releaseHold } from '../../billing/holds';
import { idArgument } from '../arguments';
import { defineCommand } from '../command';

export default defineCommand({
  name: 'billing:release',
  permission: 'operate',
  summary: 'Lift the hold on a pending attempt (e.g. a VoP no-match checked with the debtor) so its run sends it',
  usage: '<attempt id>',
  async run(args, { io, services, actor }) {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    const attemptId = idArgument(positionals, 'attempt');
    const result = await releaseHold(billingContext(services()), attemptId, actor);
    if (!result.released) {
      io.err(`attempt ${attemptId} is not a held pending attempt`);
      return 1;
    }
    io.out(`attempt ${attemptId}: hold ${result.reason} released`);
  },
});
