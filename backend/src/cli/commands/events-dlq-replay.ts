import { parseArgs } from 'node:util';
import { resendDeadLetters } from '../../events/dead-letter-resend';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'events:dlq-replay',
  permission: 'operate',
  summary: 'Send dead-lettered messages again (QStash retries them as new deliveries; applying stays exactly-once)',
  usage: '<dlqId>... | --all',
  async run(args, { io, services, actor }) {
    const { values, positionals } = parseArgs({ args, options: { all: { type: 'boolean' } }, allowPositionals: true });
    if (Boolean(values.all) === positionals.length > 0) throw new UsageError('give dlq ids or --all, not both or neither');
    const { qstash, database } = services();
    const resent = await resendDeadLetters(qstash, database.db, values.all ? 'all' : positionals, actor);
    io.out(`${resent.length} message(s) sent again${resent.length ? `: ${resent.join(', ')}` : ''}`);
    // Named messages that were not resent are missing from the dead-letter queue.
    return !values.all && resent.length < positionals.length ? 1 : 0;
  },
});
