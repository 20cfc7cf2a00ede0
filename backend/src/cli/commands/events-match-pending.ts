import { recordAudit } from '../../audit/record';
import { eventContext } from '../../events/context';
import { matchPendingEvents } from '../../events/match';
import { defineCommand } from '../command';

export default defineCommand({
  name: 'events:match-pending',
  permission: 'operate',
  summary: 'Try every pending_match event against the billing attempts now known',
  usage: '',
  async run(_args, { io, services, actor }) {
    const summary = await matchPendingEvents(eventContext(services()), 'all');
    await recordAudit(services().database.db, { actor, action: 'events.matched', after: { examined: summary.examined, matched: summary.matched, stillPending: summary.stillPending } });
    const matched = Object.entries(summary.matched).map(([outcome, count]) => `${count} ${outcome}`);
    io.out(`${summary.examined} pending examined; matched: ${matched.join(', ') || 'none'}; still pending: ${summary.stillPending}`);
  },
});
