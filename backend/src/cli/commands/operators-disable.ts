import { disableOperator } from '../../auth/operators';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'operators:disable',
  permission: 'administer',
  summary: "Disable an operator: they cannot log in, and their sessions end at once (never the last enabled admin)",
  usage: '<email>',
  async run(args, { io, services, actor }) {
    if (args.length !== 1) throw new UsageError('expected one email address');
    const operator = await disableOperator(services().database.db, { email: args[0]! }, actor);
    io.out(`operator ${operator.email} is disabled; their sessions are ended`);
  },
});
