/**
 * The log-in throttle (issue 15): per email and address, per address, and across everything;
 * limits checked before argon2; lengths capped before any work; old failures purged. Clients are
 * told apart by X-Forwarded-For, which the nodes trust from one proxy (TRUSTED_PROXIES=1).
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { verifyPassword } from '../src/auth/passwords';
import { loginFailureEvents } from '../src/db/schema';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { createTestOperator, submitLogin } from './support/operators';

vi.mock('../src/auth/passwords', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/auth/passwords')>();
  return { ...actual, verifyPassword: vi.fn(actual.verifyPassword) };
});

let database: MigratedTestDatabase;
let node: DashboardNode;
/** The same database, with a ceiling of 4 failed log-ins a minute across everything. */
let floodNode: DashboardNode;

const THROTTLE = { TRUSTED_PROXIES: '1', LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT: '600', LOGIN_MAX_FAILURES_PER_ADDRESS: '5' };

beforeAll(async () => {
  database = await createMigratedDatabase();
  [node, floodNode] = await Promise.all([
    startDashboardNode(database.url, { ...THROTTLE, LOGIN_MAX_FAILURES_PER_MINUTE: '1000' }),
    startDashboardNode(database.url, { ...THROTTLE, LOGIN_MAX_FAILURES_PER_MINUTE: '4' }),
  ]);
});
afterAll(async () => {
  await node?.close();
  await floodNode?.close();
  await database?.destroy();
});
beforeEach(() => {
  vi.mocked(verifyPassword).mockClear();
});

const from = (address: string) => ({ 'x-forwarded-for': `203.0.113.66, ${address}` });
const attempt = (url: string, email: string, password: string, address: string) => submitLogin(url, email, password, undefined, from(address));

function expectRetryAfter(response: Response, atMostSeconds: number) {
  const seconds = Number(response.headers.get('retry-after'));
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(atMostSeconds);
}

describe('per email and address', () => {
  it('locks the attacker’s address for the victim’s email, not the victim logging in from elsewhere', async () => {
    const victim = await createTestOperator(database.db);
    for (let failure = 1; failure <= 3; failure++) {
      const { response } = await attempt(node.url, victim.email, `guess ${failure}`, '198.51.100.1');
      expect(response.status).toBe(failure < 3 ? 401 : 429);
    }
    const locked = (await attempt(node.url, victim.email, victim.password, '198.51.100.1')).response;
    expect(locked.status).toBe(429);
    expectRetryAfter(locked, 600);
    expect(await locked.text()).toContain('Too many failed log-ins for this email');

    // The victim, from another address, logs in at once.
    expect((await attempt(node.url, victim.email, victim.password, '198.51.100.2')).response.status).toBe(303);
    // ...and the attacker's address may still log in with other emails.
    expect((await attempt(node.url, 'someone-else@tether.test', 'guess', '198.51.100.1')).response.status).toBe(401);
  });

  it('ignores X-Forwarded-For entries left of the trusted proxy’s', async () => {
    const victim = await createTestOperator(database.db);
    for (let failure = 1; failure <= 3; failure++) {
      await submitLogin(node.url, victim.email, 'guess', undefined, { 'x-forwarded-for': `10.9.9.${failure}, 198.51.100.3` });
    }
    expect((await submitLogin(node.url, victim.email, victim.password, undefined, { 'x-forwarded-for': '10.9.9.9, 198.51.100.3' })).response.status).toBe(429);
  });
});

describe('per address', () => {
  it('refuses an address spraying many emails, before checking any password, and no other address', async () => {
    for (let failure = 1; failure <= 5; failure++) {
      const { response } = await attempt(node.url, `spray-${failure}@tether.test`, 'guess', '198.51.100.10');
      expect(response.status).toBe(failure < 5 ? 401 : 429);
    }
    expect(verifyPassword).toHaveBeenCalledTimes(5);
    const refused = (await attempt(node.url, 'spray-6@tether.test', 'guess', '198.51.100.10')).response;
    expect(refused.status).toBe(429);
    expectRetryAfter(refused, 600);
    expect(await refused.text()).toContain('Too many failed log-ins from your address');
    expect(verifyPassword).toHaveBeenCalledTimes(5);

    const operator = await createTestOperator(database.db);
    expect((await attempt(node.url, operator.email, operator.password, '198.51.100.11')).response.status).toBe(303);
  });
});

describe('lengths', () => {
  it('refuses an email over 254 characters or a password over 1024 before any work', async () => {
    const rowsBefore = (await database.db.select().from(loginFailureEvents)).length;
    const longEmail = `${'a'.repeat(245)}@tether.test`;
    expect(longEmail.length).toBe(257);
    expect((await attempt(node.url, longEmail, 'guess', '198.51.100.20')).response.status).toBe(400);
    expect((await attempt(node.url, 'ops@tether.test', 'x'.repeat(1025), '198.51.100.20')).response.status).toBe(400);
    expect(verifyPassword).not.toHaveBeenCalled();
    expect((await database.db.select().from(loginFailureEvents)).length).toBe(rowsBefore);
  });
});

describe('old failures', () => {
  it('are purged when a failure is recorded', async () => {
    await database.db.insert(loginFailureEvents).values({ email: 'old@tether.test', address: '198.51.100.30', failedAt: sql`now() - interval '2 hours'` });
    await attempt(node.url, 'new@tether.test', 'guess', '198.51.100.31');
    expect(await database.db.select().from(loginFailureEvents).where(eq(loginFailureEvents.email, 'old@tether.test'))).toEqual([]);
  });
});

describe('across everything', () => {
  it('refuses every log-in, before argon2, once too many failed within a minute, until the minute passes', async () => {
    await database.db.delete(loginFailureEvents);
    for (let failure = 1; failure <= 4; failure++) {
      const { response } = await attempt(floodNode.url, `flood-${failure}@tether.test`, 'guess', `192.0.2.${failure}`);
      expect(response.status).toBe(failure < 4 ? 401 : 429);
    }
    vi.mocked(verifyPassword).mockClear();
    const operator = await createTestOperator(database.db);
    const refused = (await attempt(floodNode.url, operator.email, operator.password, '192.0.2.100')).response;
    expect(refused.status).toBe(429);
    expectRetryAfter(refused, 60);
    expect(await refused.text()).toContain('Too many failed log-ins on this site right now');
    expect(verifyPassword).not.toHaveBeenCalled();

    await database.db.update(loginFailureEvents).set({ failedAt: sql`now() - interval '61 seconds'` });
    expect((await attempt(floodNode.url, operator.email, operator.password, '192.0.2.100')).response.status).toBe(303);
  });
});
