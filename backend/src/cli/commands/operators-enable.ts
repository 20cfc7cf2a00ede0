import { enableOperator } from '../../auth/operators';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'operators:enable',
  permission: 'administer',
  summary: 'Enable a disabled operator again (with the role and password they had)',
  usage: '<email>',
  async run(args, { io, services, actor }) {
    if (args.length !== 1) throw new UsageError('expected one email address');
    const operator = await enableOperator(services().database.db, { email: args[0]! }, actor);
    io.out(`operator ${operator.email} is enabled (${operator.role})`);
  },
});
