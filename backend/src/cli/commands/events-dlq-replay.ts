import { parseArgs } from 'node:util';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'events:dlq-replay',
  summary: 'Send dead-lettered messages again (QStash retries them as new deliveries; applying stays exactly-once)',
  usage: '<dlqId>... | --all',
  async run(args, { io, services }) {
    const { values, positionals } = parseArgs({ args, options: { all: { type: 'boolean' } }, allowPositionals: true });
    if (Boolean(values.all) === positionals.length > 0) throw new UsageError('give dlq ids or --all, not both or neither');
    const { qstash } = services();
    const resent: string[] = [];
    if (values.all) {
      let cursor: string | undefined;
      do {
        const page = await qstash.dlq.retry({ all: true, cursor });
        resent.push(...page.responses.map((response) => response.messageId));
        cursor = page.cursor;
      } while (cursor);
    } else {
      const { responses } = await qstash.dlq.retry(positionals);
      resent.push(...responses.map((response) => response.messageId));
    }
    io.out(`${resent.length} message(s) sent again${resent.length ? `: ${resent.join(', ')}` : ''}`);
    // Named messages that were not resent are missing from the dead-letter queue.
    return !values.all && resent.length < positionals.length ? 1 : 0;
  },
});
