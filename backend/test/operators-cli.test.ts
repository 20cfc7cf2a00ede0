/**
 * Operators: the CLI creating the first operator with the password piped on stdin (as a script
 * would; a terminal gets a hidden prompt), refusing weak passwords and duplicates, listing, and
 * a password change ending the old sessions.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changePassword, createOperator } from '../src/auth/operators';
import { runCli } from '../src/cli/run';
import { loadConfig } from '../src/config';
import { operators } from '../src/db/schema';
import { createServices } from '../src/services';
import { backendEnvironment } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { logIn, submitLogin, TEST_ACTOR } from './support/operators';

let database: MigratedTestDatabase;
let node: DashboardNode;

beforeAll(async () => {
  database = await createMigratedDatabase();
  node = await startDashboardNode(database.url);
});
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

/** `npm run tether -- …` as a process, with `input` on its standard input. */
function tether(input: string, ...argv: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'backend/src/cli/main.ts', ...argv], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, ...backendEnvironment(database.url, 'http://127.0.0.1:9') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, () =>
    createServices(loadConfig(backendEnvironment(database.url, 'http://127.0.0.1:9')), pino({ level: 'silent' })),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('operators:create', () => {
  it('creates the first operator from a password on stdin, who can then log in', async () => {
    const password = 'correct horse battery staple';
    const created = await tether(`${password}\n`, 'operators:create', ' First.Operator@Tether.TEST ');
    expect(created).toMatchObject({ code: 0, stdout: 'operator first.operator@tether.test created (admin)\n' });
    const [row] = await database.db.select().from(operators).where(eq(operators.email, 'first.operator@tether.test'));
    expect(row!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row!.passwordHash).not.toContain(password);
    await logIn(node.url, { email: 'first.operator@tether.test', password });
  }, 120_000);

  it('refuses the same address twice, a short password and a malformed address, changing nothing', async () => {
    await createOperator(database.db, { email: 'taken@tether.test', password: 'a long enough password', role: 'operator' }, TEST_ACTOR);
    await expect(createOperator(database.db, { email: 'TAKEN@tether.test', password: 'another long password', role: 'operator' }, TEST_ACTOR)).rejects.toThrow('an operator taken@tether.test exists already');
    await expect(createOperator(database.db, { email: 'second@tether.test', password: 'short', role: 'operator' }, TEST_ACTOR)).rejects.toThrow('at least 12 characters');
    await expect(createOperator(database.db, { email: 'not an address', password: 'a long enough password', role: 'operator' }, TEST_ACTOR)).rejects.toThrow('not an email address');
    expect(await database.db.select().from(operators).where(eq(operators.email, 'second@tether.test'))).toEqual([]);
  });

  it('wants exactly one email, and lists the operators', async () => {
    expect((await cli('operators:create')).code).toBe(2);
    expect((await cli('operators:create', 'a@tether.test', 'b@tether.test')).code).toBe(2);
    const listed = await cli('operators:list');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^id\s+operator\s+role\s+disabled\s+created\s+last_login/);
    expect(listed.out).toContain('first.operator@tether.test');
  });

  it('a new password ends the sessions opened with the old one', async () => {
    const session = await logIn(node.url, { email: 'first.operator@tether.test', password: 'correct horse battery staple' });
    await changePassword(database.db, 'first.operator@tether.test', 'a different long password', TEST_ACTOR);
    expect((await session.fetch('/uploads')).status).toBe(401);
    expect((await submitLogin(node.url, 'first.operator@tether.test', 'correct horse battery staple')).response.status).toBe(401);
    expect((await submitLogin(node.url, 'first.operator@tether.test', 'a different long password')).response.status).toBe(303);
  });
});
