/**
 * Every CLI command against every role (issue 17): the permission each command declares is the
 * one expected here (a new command fails until it is added), the operator named with --as runs
 * exactly the commands their role allows (a refusal exits 3 before the command runs), and
 * without --as the OS user acts, as admin-equivalent, recorded as such in the audit log.
 */
import { userInfo } from 'node:os';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { ROLES, roleAllows, type Permission, type Role } from '@tether/shared/roles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableOperator } from '../src/auth/operators';
import { REFUSED_EXIT_CODE } from '../src/cli/authorize';
import type { Command } from '../src/cli/command';
import { loadCommands, runCli } from '../src/cli/run';
import { loadConfig } from '../src/config';
import { auditLog, operators } from '../src/db/schema';
import { createServices } from '../src/services';
import { backendEnvironment } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { createTestOperator, TEST_ACTOR } from './support/operators';

const EXPECTED: Record<string, Permission> = {
  'billing:cancel': 'operate',
  'billing:pause': 'operate',
  'billing:release': 'operate',
  'billing:resume': 'operate',
  'billing:start': 'operate',
  'billing:status': 'read',
  'blacklist:lift': 'administer',
  'events:dlq': 'read',
  'events:dlq-replay': 'operate',
  'events:list': 'read',
  'events:match-pending': 'operate',
  'events:replay': 'operate',
  'events:show': 'read',
  'files:migrate-to-s3': 'administer',
  'operators:create': 'administer',
  'operators:disable': 'administer',
  'operators:enable': 'administer',
  'operators:list': 'administer',
  'debtors:erase': 'administer',
  'refunds:request': 'operate',
  'retention:schedule': 'administer',
  'retention:sweep': 'administer',
  'operators:password': 'administer',
  'operators:role': 'administer',
  'reconcile:run': 'operate',
  'reconcile:schedule': 'administer',
  'vop:check': 'operate',
};

let database: MigratedTestDatabase;
let commands: Map<string, Command>;

beforeAll(async () => {
  database = await createMigratedDatabase();
  commands = await loadCommands();
  for (const role of ROLES) await createTestOperator(database.db, `${role}@tether.test`, role);
});
afterAll(async () => {
  await database?.destroy();
});

async function cli(argv: string[], only?: Map<string, Command>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { out: (line) => out.push(line), err: (line) => err.push(line) },
    () => createServices(loadConfig(backendEnvironment(database.url, 'http://127.0.0.1:9')), pino({ level: 'silent' })),
    only,
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The real commands with their rules, whose bodies only note that they ran. */
function recording(ran: string[]): Map<string, Command> {
  return new Map([...commands].map(([name, command]) => [name, { ...command, run: async () => void ran.push(name) }]));
}

describe('the command table', () => {
  it('gives every command the permission expected of it', () => {
    expect(Object.fromEntries([...commands].map(([name, command]) => [name, command.permission]))).toEqual(EXPECTED);
  });

  for (const role of ROLES) {
    it(`runs for a ${role} exactly the commands the role allows`, async () => {
      const ran: string[] = [];
      const stubs = recording(ran);
      for (const [name, permission] of Object.entries(EXPECTED)) {
        const result = await cli([name, '--as', `${role}@tether.test`], stubs);
        const allowed = roleAllows(role as Role, permission);
        expect({ name, code: result.code }).toEqual({ name, code: allowed ? 0 : REFUSED_EXIT_CODE });
        if (!allowed) expect(result.err).toBe(`${role}@tether.test (${role}) may not run ${name}: it needs the ${permission} permission`);
      }
      expect(ran).toEqual(Object.keys(EXPECTED).filter((name) => roleAllows(role, EXPECTED[name]!)));
    });
  }

  it('refuses an unknown or disabled operator, and runs as the OS user without --as', async () => {
    const ran: string[] = [];
    const stubs = recording(ran);
    expect(await cli(['events:list', '--as', 'nobody@tether.test'], stubs)).toMatchObject({ code: REFUSED_EXIT_CODE, err: '--as nobody@tether.test: no such enabled operator' });
    const gone = await createTestOperator(database.db, 'gone@tether.test', 'admin');
    await disableOperator(database.db, { id: gone.id }, TEST_ACTOR);
    expect((await cli(['events:list', '--as', 'gone@tether.test'], stubs)).code).toBe(REFUSED_EXIT_CODE);
    expect((await cli(['operators:list'], stubs)).code).toBe(0);
    expect(ran).toEqual(['operators:list']);
  });
});

describe('a real command', () => {
  it('refused to a viewer changes nothing; run by an admin it is audited with the OS user and the operator', async () => {
    const target = await createTestOperator(database.db, 'target@tether.test', 'operator');
    const refused = await cli(['operators:disable', 'target@tether.test', '--as', 'viewer@tether.test']);
    expect(refused.code).toBe(REFUSED_EXIT_CODE);
    const [untouched] = await database.db.select().from(operators).where(eq(operators.id, target.id));
    expect(untouched!.disabledAt).toBeNull();

    expect(await cli(['operators:disable', '--as=admin@tether.test', 'target@tether.test'])).toMatchObject({ code: 0 });
    const entries = await database.db.select().from(auditLog).where(eq(auditLog.targetId, String(target.id)));
    expect(entries.filter((entry) => entry.action === 'operator.disabled')).toMatchObject([
      { actorKind: 'cli', actorName: `${userInfo().username} as admin@tether.test`, targetKind: 'operator', before: { disabled: false }, after: { disabled: true, sessionsEnded: 0 } },
    ]);

    expect(await cli(['operators:role', 'target@tether.test', 'admin'])).toMatchObject({ code: 0, out: 'operator target@tether.test is admin' });
    const [roleChange] = await database.db.select().from(auditLog).where(eq(auditLog.action, 'operator.role_changed'));
    expect(roleChange).toMatchObject({ actorKind: 'cli', actorName: userInfo().username, actorOperatorId: null, before: { role: 'operator' }, after: { role: 'admin' } });
    expect((await cli(['operators:role', 'target@tether.test', 'boss'])).code).toBe(2);
  });
});
