/**
 * The webhook storm: billing attempts as billing leaves them (submitted, EMP's unique_id known),
 * then EMP's notifications about them at a rising rate — pending_async and approved in either
 * order, a chargeback for some (MD06, which blacklists, or AM04, which does not), 5 % sent
 * twice — with faults injected at given seconds. The end state is checked in the database.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { seedAttempts, type BenchAttempt } from '../events/fixtures';
import { chargebackNotification, EmpSender, saleNotification, type Notification } from './emp';
import type { Check, Marker, ScenarioResult } from './results';
import { E2E_SECRETS, type E2EStack } from './stack';

export interface StormPlan {
  notifications: Notification[];
  /** Every distinct event (dedup key) in the plan. */
  uniqueKeys: Set<string>;
  /** The status each attempt must end in, whatever order its events arrived in. */
  expected: Map<string, AttemptStatus>;
}

const shuffle = <T>(items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
};

/**
 * About 2.1 events per attempt, shuffled within windows of 64 events so that an attempt's
 * events arrive close together and in any order; each duplicate follows its original a few
 * positions later, as an EMP retry would.
 */
export async function planStorm(stack: E2EStack, attemptCount: number, duplicateShare = 0.05): Promise<StormPlan> {
  const attempts = await seedAttempts(stack.database.db, attemptCount);
  const password = E2E_SECRETS.empPassword;
  const expected = new Map<string, AttemptStatus>();
  const perAttempt = await Promise.all(
    attempts.map(async (attempt: BenchAttempt, index) => {
      const events = [await saleNotification(attempt, 'pending_async', password), await saleNotification(attempt, 'approved', password)];
      if (index % 10 === 0) events.push(await chargebackNotification(attempt, index % 20 === 0 ? 'MD06' : 'AM04', password));
      expected.set(attempt.transactionId, index % 10 === 0 ? 'chargebacked' : 'approved');
      return events;
    }),
  );
  const flat = perAttempt.flat();
  const windowed: Notification[] = [];
  for (let start = 0; start < flat.length; start += 64) windowed.push(...shuffle(flat.slice(start, start + 64)));
  const notifications: Notification[] = [];
  const echoes: Array<{ at: number; notification: Notification }> = [];
  windowed.forEach((notification, index) => {
    notifications.push(notification);
    if (Math.random() < duplicateShare) echoes.push({ at: index + 1 + Math.floor(Math.random() * 20), notification });
    while (echoes.length > 0 && echoes[0]!.at <= index) notifications.push(echoes.shift()!.notification);
  });
  notifications.push(...echoes.map((echo) => echo.notification));
  return { notifications, uniqueKeys: new Set(flat.map((notification) => notification.dedupKey)), expected };
}

export interface StormPhase {
  rate: number;
  seconds: number;
}

export interface StormFault {
  atSecond: number;
  label: string;
  act: () => Promise<void>;
}

export interface StormRun {
  sender: EmpSender;
  markers: Marker[];
  /** Per phase: notifications the backend applied per second while it ran. */
  appliedPerSecond: number[];
  durationSeconds: number;
  faultErrors: string[];
}

async function appliedCount(stack: E2EStack): Promise<number> {
  const { rows } = await stack.database.pool.query<{ n: number }>('select count(*)::int as n from webhook_events where processed_at is not null');
  return rows[0]!.n;
}

/** Sends the plan's notifications over the phases, in order. */
export async function runStorm(stack: E2EStack, plan: StormPlan, phases: StormPhase[], faults: StormFault[] = []): Promise<StormRun> {
  const sender = new EmpSender(stack.urls.notifications, { resendAfterMs: 1_000, timeoutMs: 10_000, maxInFlight: 512 });
  const started = Date.now();
  const markers: Marker[] = [];
  const faultErrors: string[] = [];
  const timers = faults.map((fault) =>
    setTimeout(() => {
      markers.push({ second: Math.round((Date.now() - started) / 100) / 10, label: fault.label });
      fault.act().catch((error: Error) => faultErrors.push(`${fault.label}: ${error.message}`));
    }, fault.atSecond * 1_000),
  );
  const appliedPerSecond: number[] = [];
  let offset = 0;
  for (const [index, phase] of phases.entries()) {
    // The last phase sends whatever is left: every attempt's events must go out for the end state to be judged.
    const count = index === phases.length - 1 ? plan.notifications.length - offset : Math.min(plan.notifications.length - offset, phase.rate * phase.seconds);
    const before = { at: Date.now(), applied: await appliedCount(stack) };
    await sender.sendAtRate(plan.notifications.slice(offset, offset + count), phase.rate);
    offset += count;
    appliedPerSecond.push(Math.round(((await appliedCount(stack)) - before.applied) / ((Date.now() - before.at) / 1000)));
  }
  // Every fault has struck (and been undone) before the end state is judged.
  const lastFault = Math.max(0, ...faults.map((fault) => fault.atSecond));
  while (Date.now() - started < lastFault * 1_000 + 500) await new Promise((resolve) => setTimeout(resolve, 100));
  timers.forEach(clearTimeout);
  return { sender, markers, appliedPerSecond, durationSeconds: (Date.now() - started) / 1000, faultErrors };
}

/**
 * Waits until every echoed event is applied, then judges: none lost, none applied twice, every
 * attempt in the status its events lead to, the plan's chargebacks recorded once each.
 */
/**
 * CPU milliseconds each part spent per event applied between two `stack.cpuSeconds()` readings:
 * where the machine's time goes. A part restarted in between (its counter reset) is left out.
 */
export function cpuPerEvent(before: Record<string, number>, after: Record<string, number>, events: number): Record<string, number> {
  const figures: Record<string, number> = {};
  let total = 0;
  for (const [part, seconds] of Object.entries(after)) {
    const spent = seconds - (before[part] ?? Number.NaN);
    if (!(spent >= 0)) continue;
    total += spent;
    figures[`CPU ms per event: ${part}`] = Math.round((spent * 1e4) / events) / 10;
  }
  figures['CPU ms per event: all'] = Math.round((total * 1e4) / events) / 10;
  return figures;
}

export interface StormJudgement {
  checks: Check[];
  events: NonNullable<ScenarioResult['events']>;
  figures: Record<string, number>;
}

export async function judgeStorm(stack: E2EStack, plan: StormPlan, run: StormRun, settleMs: number): Promise<StormJudgement> {
  await run.sender.drain(settleMs);
  const keys = [...plan.uniqueKeys];
  const appliedKeys = async () =>
    (
      await stack.database.pool.query<{ n: number }>('select count(*)::int as n from webhook_events where dedup_key = any($1) and processed_at is not null', [keys])
    ).rows[0]!.n;
  const deadline = Date.now() + settleMs;
  let applied = await appliedKeys();
  while (applied < run.sender.echoed.size && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    applied = await appliedKeys();
  }
  const pool = stack.database.pool;
  const transactionIds = [...plan.expected.keys()];
  const lost = (
    await pool.query<{ n: number }>(
      `select count(*)::int as n from unnest($1::text[]) k where not exists (select 1 from webhook_events e where e.dedup_key = k and e.processed_at is not null)`,
      [[...run.sender.echoed]],
    )
  ).rows[0]!.n;
  const appliedTwice = (
    await pool.query<{ n: number }>(
      `select count(*)::int as n from (
         select a.id, h->>'to' from billing_attempts a, jsonb_array_elements(a.history) h
         where a.transaction_id = any($1) group by 1, 2 having count(*) > 1) twice`,
      [transactionIds],
    )
  ).rows[0]!.n;
  const { rows: statuses } = await pool.query<{ transaction_id: string; status: AttemptStatus }>(
    'select transaction_id, status from billing_attempts where transaction_id = any($1)',
    [transactionIds],
  );
  const wrong = statuses.filter((row) => plan.expected.get(row.transaction_id) !== row.status);
  const wrongEvents = wrong[0]
    ? (
        await pool.query<{ transaction_type: string; emp_status: string; outcome: string; error: string | null }>(
          'select transaction_type, emp_status, outcome, error from webhook_events where transaction_id = $1 order by id',
          [wrong[0].transaction_id],
        )
      ).rows.map((event) => `${event.transaction_type}/${event.emp_status}: ${event.outcome}${event.error ? ` (${event.error})` : ''}`)
    : [];
  const redelivered = (
    await pool.query<{ n: number }>('select coalesce(sum(attempts - 1), 0)::int as n from webhook_events where dedup_key = any($1)', [keys])
  ).rows[0]!.n;
  const fiveHundreds = Object.entries(run.sender.statuses)
    .filter(([status]) => status.startsWith('5'))
    .reduce((sum, [, count]) => sum + count, 0);

  const checks: Check[] = [
    { name: 'every notification sent was echoed in the end', passed: run.sender.pending === 0, detail: `${run.sender.echoed.size} of ${plan.uniqueKeys.size} distinct events echoed` },
    { name: 'no echoed event lost', passed: lost === 0, detail: `${lost} echoed but not applied` },
    { name: 'no event applied twice', passed: appliedTwice === 0, detail: `${appliedTwice} status moves recorded twice on one attempt` },
    { name: 'every attempt in the status its events lead to', passed: wrong.length === 0 && statuses.length === plan.expected.size, detail: `${plan.expected.size - wrong.length} of ${plan.expected.size} right${wrong[0] ? `; e.g. ${wrong[0].transaction_id} is ${wrong[0].status}, expected ${plan.expected.get(wrong[0].transaction_id)}; its events: ${wrongEvents.join(', ') || 'none recorded'}` : ''}` },
  ];
  if (run.faultErrors.length > 0) checks.push({ name: 'every fault injected', passed: false, detail: run.faultErrors.join('; ') });
  return {
    checks,
    events: { sent: run.sender.sent, unique: plan.uniqueKeys.size, applied, lost, duplicated: appliedTwice },
    figures: { 'deliveries beyond the first (absorbed by the backend)': redelivered, '5xx answers': fiveHundreds },
  };
}
