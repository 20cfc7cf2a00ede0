import { eventContext } from '../../events/context';
import { reprocessEvent } from '../../events/process';
import { defineCommand } from '../command';
import { idArgument } from '../arguments';

export default defineCommand({
  name: 'events:replay',
  permission: 'operate',
  summary: 'Run one recorded EMP event again through the apply path (only pending_match or failed ones change)',
  usage: '<id>',
  async run(args, { io, services, actor }) {
    const id = idArgument(args, 'event');
    const result = await reprocessEvent(eventContext(services()), id, actor);
    if (!result.rerun) io.out(`event ${id} is ${result.outcome}; nothing to do`);
    else io.out(`event ${id} replayed: ${result.outcome}`);
    return result.outcome === 'failed' ? 1 : 0;
  },
});
