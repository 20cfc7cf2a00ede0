import { ROLES } from '@tether/shared/roles';
import { changeRole } from '../../auth/operators';
import { defineCommand, UsageError } from '../command';
import { roleOption } from '../arguments';

export default defineCommand({
  name: 'operators:role',
  permission: 'administer',
  summary: "Change an operator's role; it applies from their next request (the last enabled admin stays an admin)",
  usage: `<email> <${ROLES.join('|')}>`,
  async run(args, { io, services, actor }) {
    if (args.length !== 2) throw new UsageError('expected an email address and a role');
    const role = roleOption(args[1]!, 'the role');
    const operator = await changeRole(services().database.db, { email: args[0]! }, role, actor);
    io.out(`operator ${operator.email} is ${operator.role}`);
  },
});
