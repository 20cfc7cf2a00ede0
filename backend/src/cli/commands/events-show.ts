import { eq } from 'drizzle-orm';
import { maskPersonalData } from '@tether/shared/mask';
import { webhookEvents } from '../../db/schema';
import { defineCommand } from '../command';
import { idArgument } from '../arguments';

export default defineCommand({
  name: 'events:show',
  permission: 'read',
  summary: 'Show one EMP event with its payload (IBANs and names masked)',
  usage: '<id>',
  async run(args, { io, services }) {
    const id = idArgument(args, 'event');
    const [event] = await services().database.db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
    if (!event) {
      io.err(`no event ${id}`);
      return 1;
    }
    io.out(JSON.stringify(maskPersonalData(event), null, 2));
  },
});
