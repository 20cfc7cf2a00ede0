import { parseArgs } from 'node:util';
import { maskIban } from '@tether/shared/mask';
import { BlacklistRemovalRefused, removeFromBlacklist } from '../../blacklist/blacklist';
import { findBlacklistEntry } from '../../dashboard/queries/blacklist';
import { idArgument } from '../arguments';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'blacklist:lift',
  permission: 'administer',
  summary: 'Lift an active blacklist entry, compliance entries (deceased, regulatory) included, with the reason for the decision',
  usage: '<entry id> --reason <text>',
  async run(args, { io, services, actor }) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { reason: { type: 'string' } } });
    const entryId = idArgument(positionals, 'blacklist entry');
    const reason = values.reason?.trim() ?? '';
    if (reason.length < 3 || reason.length > 500) throw new UsageError('--reason must say why, in 3 to 500 characters');
    const { db } = services().database;
    const entry = await findBlacklistEntry(db, entryId);
    if (!entry || entry.removedAt) {
      io.err(`blacklist entry ${entryId} is not active`);
      return 1;
    }
    try {
      await removeFromBlacklist(db, services().config.personalData.key, { iban: entry.iban, reason, byCompliance: true }, actor);
    } catch (error) {
      if (!(error instanceof BlacklistRemovalRefused)) throw error;
      io.err(error.message);
      return 1;
    }
    io.out(`blacklist entry ${entryId} (${maskIban(entry.iban)}) lifted`);
  },
});
