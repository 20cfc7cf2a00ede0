import { createOperator } from '../../auth/operators';
import { MIN_PASSWORD_LENGTH } from '../../auth/passwords';
import { defineCommand, UsageError } from '../command';
import { readNewPassword } from '../password-input';

export default defineCommand({
  name: 'operators:create',
  summary: `Create a dashboard operator; the password (${MIN_PASSWORD_LENGTH}+ characters) is prompted for, or read from stdin`,
  usage: '<email>',
  async run(args, { io, services }) {
    if (args.length !== 1) throw new UsageError('expected one email address');
    // Configuration first: a missing variable fails before the operator types a password twice.
    const { db } = services().database;
    const operator = await createOperator(db, args[0]!, await readNewPassword());
    io.out(`operator ${operator.email} created`);
  },
});
