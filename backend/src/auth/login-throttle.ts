/**
 * Limits on failed log-ins, counted in the database (every node counts the same failures, and a
 * restart forgets none), one row per failure (login_failure_events). The policy:
 *
 * - per email and client address: `maxFailures` failures in a row (a success clears them) lock
 *   that email from that address for `lockoutSeconds`. This is the lock a guesser meets.
 * - per client address: `maxFailuresPerAddress` failures within `lockoutSeconds`, whatever the
 *   emails, refuse that address until the oldest falls out of the window: one address cannot
 *   spray guesses over many emails.
 * - across everything: `maxFailuresPerMinute` failures within a minute refuse every log-in until
 *   the minute has passed. This bounds the argon2 work (19 MiB, two passes each) that many
 *   addresses together can cause, at the price of delaying every operator while such a flood
 *   lasts.
 *
 * There is deliberately no lock on an email alone: whoever can type an operator's email could
 * then lock that operator out. A guesser from one address is stopped by the first two limits,
 * one with many addresses by the third; the victim, from their own address, is locked by none of
 * what the attacker did, unless the whole site is flooded.
 *
 * All three are checked before the password is (argon2 runs only for a request that passes
 * them). Requests arriving at the same moment may each pass before their failures are counted:
 * a limit can be late by as many requests as arrive together, never by more.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import { loginFailureEvents } from '../db/schema';

export interface ThrottlePolicy {
  maxFailures: number;
  lockoutSeconds: number;
  maxFailuresPerAddress: number;
  maxFailuresPerMinute: number;
}

/** Who is trying: the email typed, normalised, and the client's address. */
export interface LoginClient {
  email: string;
  address: string;
}

export type ThrottleScope = 'email_and_address' | 'address' | 'everyone';

export interface Refusal {
  scope: ThrottleScope;
  until: Date;
}

const GLOBAL_WINDOW_SECONDS = 60;

/**
 * Each limit's count of failures in its window, and when the window no longer holds enough of
 * them for the limit: the time of the failure `limit` places from the newest, plus the window.
 */
export async function currentRefusal(db: Executor, client: LoginClient, policy: ThrottlePolicy): Promise<Refusal | undefined> {
  const lockout = sql`make_interval(secs => ${policy.lockoutSeconds})`;
  const global = sql`make_interval(secs => ${GLOBAL_WINDOW_SECONDS})`;
  // The n-th newest failure of a scope, if there are n within its window.
  const nth = (where: ReturnType<typeof sql>, window: ReturnType<typeof sql>, n: number) =>
    sql`(select ${loginFailureEvents.failedAt} + ${window} from ${loginFailureEvents}
         where ${where} and ${loginFailureEvents.failedAt} > now() - ${window}
         order by ${loginFailureEvents.failedAt} desc offset ${n - 1} limit 1)`;
  const result = await db.execute<{ everyone: Date | null; address: Date | null; email_and_address: Date | null }>(sql`select
    ${nth(sql`true`, global, policy.maxFailuresPerMinute)} as everyone,
    ${nth(sql`${loginFailureEvents.address} = ${client.address}`, lockout, policy.maxFailuresPerAddress)} as address,
    ${nth(sql`${loginFailureEvents.email} = ${client.email} and ${loginFailureEvents.address} = ${client.address}`, lockout, policy.maxFailures)} as email_and_address`);
  const row = result.rows[0];
  const scopes: ThrottleScope[] = ['email_and_address', 'address', 'everyone'];
  for (const scope of scopes) {
    const until = row?.[scope];
    if (until) return { scope, until: new Date(until) };
  }
  return undefined;
}

/** Counts one failure, and forgets those older than every window (the table stays as small as the limits allow). */
export async function recordFailure(db: Executor, client: LoginClient, policy: ThrottlePolicy): Promise<void> {
  const longest = Math.max(policy.lockoutSeconds, GLOBAL_WINDOW_SECONDS);
  await db.insert(loginFailureEvents).values({ email: client.email, address: client.address });
  await db.delete(loginFailureEvents).where(sql`${loginFailureEvents.failedAt} < now() - make_interval(secs => ${longest})`);
}

/** A successful log-in: this email's failures from this address no longer count. */
export async function clearFailures(db: Executor, client: LoginClient): Promise<void> {
  await db.delete(loginFailureEvents).where(and(eq(loginFailureEvents.email, client.email), eq(loginFailureEvents.address, client.address)));
}
