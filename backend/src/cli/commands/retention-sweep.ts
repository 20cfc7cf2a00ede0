import { cliActor } from '../../audit/actor';
import { personalDataContext } from '../../personal-data/context';
import { sweepRetention } from '../../personal-data/retention';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'retention:sweep',
  summary: 'Reduce EMP payloads and delete upload files past their retention period (the daily schedule does it too)',
  usage: '',
  permission: 'administer',
  async run(args, { io, services }) {
    if (args.length > 0) throw new UsageError('retention:sweep takes no arguments');
    const result = await sweepRetention(personalDataContext(services()), cliActor());
    io.out(`payloads reduced ${result.eventsReduced}, uploads' files deleted ${result.uploadsCleared}`);
  },
});
