import { parseArgs } from 'node:util';
import { positiveInteger } from '../arguments';
import { defineCommand } from '../command';
import { formatTable } from '../table';
import { dedupKeyOfDeadLetter } from '../../events/dead-letter-body';


export default defineCommand({
  name: 'events:dlq',
  permission: 'read',
  summary: "List the messages in QStash's dead-letter queue (deliveries QStash gave up on)",
  usage: '[--limit <n>]',
  async run(args, { io, services }) {
    const { values } = parseArgs({ args, options: { limit: { type: 'string' } } });
    const limit = positiveInteger(values.limit, '--limit', 100);
    const { qstash } = services();
    const messages = [];
    let cursor: string | undefined;
    do {
      const page = await qstash.dlq.listMessages({ cursor, count: Math.min(100, limit - messages.length) });
      messages.push(...page.messages);
      cursor = page.cursor;
    } while (cursor && messages.length < limit);
    if (messages.length === 0) {
      io.out('the dead-letter queue is empty');
      return;
    }
    const rows = messages.map((message) => ({
      dlq_id: message.dlqId,
      message_id: message.messageId,
      created: new Date(message.createdAt),
      url: message.url,
      status: message.responseStatus,
      dedup_key: dedupKeyOfDeadLetter(message.body),
      response: message.responseBody,
    }));
    for (const line of formatTable(rows, Object.keys(rows[0]!))) io.out(line);
  },
});
