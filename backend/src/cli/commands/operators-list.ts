import { listOperators } from '../../auth/operators';
import { defineCommand } from '../command';
import { formatTable } from '../table';

export default defineCommand({
  name: 'operators:list',
  permission: 'administer',
  summary: 'List the dashboard operators',
  usage: '',
  async run(_args, { io, services }) {
    const rows = await listOperators(services().database.db);
    if (rows.length === 0) {
      io.out('no operators yet: create one with operators:create <email>');
      return;
    }
    const table = rows.map((row) => ({ id: row.id, operator: row.email, role: row.role, disabled: row.disabledAt ?? '', created: row.createdAt, last_login: row.lastLoginAt }));
    for (const line of formatTable(table, Object.keys(table[0]!))) io.out(line);
  },
});
