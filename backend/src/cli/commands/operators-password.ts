import { changePassword } from '../../auth/operators';
import { defineCommand, UsageError } from '../command';
import { readNewPassword } from '../password-input';

export default defineCommand({
  name: 'operators:password',
  permission: 'administer',
  summary: "Set an operator's password (prompted for, or read from stdin) and end their sessions",
  usage: '<email>',
  async run(args, { io, services, actor }) {
    if (args.length !== 1) throw new UsageError('expected one email address');
    // Configuration first: a missing variable fails before the operator types a password twice.
    const { db } = services().database;
    const operator = await changePassword(db, args[0]!, await readNewPassword(), actor);
    io.out(`password of ${operator.email} changed; their sessions are ended`);
  },
});
