import { parseArgs } from 'node:util';
import { ROLES } from '@tether/shared/roles';
import { createOperator, hasEnabledAdmin } from '../../auth/operators';
import { MIN_PASSWORD_LENGTH } from '../../auth/passwords';
import { roleOption } from '../arguments';
import { defineCommand, UsageError } from '../command';
import { readNewPassword } from '../password-input';

export default defineCommand({
  name: 'operators:create',
  permission: 'administer',
  summary: `Create a dashboard operator (role operator by default; admin when no enabled admin exists yet); the password (${MIN_PASSWORD_LENGTH}+ characters) is prompted for, or read from stdin`,
  usage: `<email> [--role ${ROLES.join('|')}]`,
  async run(args, { io, services, actor }) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { role: { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError('expected one email address');
    const given = values.role === undefined ? undefined : roleOption(values.role, '--role');
    // Configuration first: a missing variable fails before the operator types a password twice.
    const { db } = services().database;
    // Somebody must be able to manage operators: the first account is an admin unless told otherwise.
    const role = given ?? ((await hasEnabledAdmin(db)) ? 'operator' : 'admin');
    const operator = await createOperator(db, { email: positionals[0]!, password: await readNewPassword(), role }, actor);
    io.out(`operator ${operator.email} created (${operator.role})`);
  },
});
