/**
 * The webhook storm: sales the e2e's Genesis simulator really holds (created through its XML API,
 * their attempts seeded as billing leaves them: submitted, EMP's unique_id known), put in their
 * final state at EMP first (approved; one in ten charged back, alternately MD06, which blacklists,
 * and AM04, which does not), then EMP's notifications about them at a rising rate —
 * pending_async, approved and the chargeback in any order, 5 % sent twice — with faults injected
 * at given seconds. A notification is only a trigger: the backend records it, asks EMP about its
 * signed id and applies EMP's answer. The end state is checked in the database against EMP's.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { attemptStatusFromGenesis } from '@tether/shared/genesis-meaning';
import { reasonCodePolicy } from '@tether/shared/reason-codes';
import { percentile, seedSaleAttempts } from '../events/fixtures';
import { chargebackNotification, EmpSender, saleNotification, type Notification } from './emp';
import type { Check, Marker, ScenarioResult } from './results';
import { chargeBack, chargebackReasonCodes, createSales, empStatuses, type SimSale } from './sales';
import { E2E_SECRETS, type E2EStack } from './stack';

export interface StormPlan {
  notifications: Notification[];
  /** Every distinct event (dedup key) in the plan. */
  uniqueKeys: Set<string>;
  /** The status each attempt must end in, by transaction_id: EMP's, whatever order the notifications arrived in. */
  expected: Map<string, AttemptStatus>;
  sales: SimSale[];
  /** The sales charged back at EMP, by unique_id, with the reason code of the record. */
  chargebacks: Map<string, string>;
}

const shuffle = <T>(items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
};

let storms = 0;

/**
 * `attemptCount` sales at EMP in their final state, their attempts, and about 2.1 notifications
 * per attempt, shuffled within windows of 64 so that an attempt's notifications arrive close
 * together and in any order; each duplicate follows its original a few positions later, as an
 * EMP retry would. Each storm has its own transaction_ids and IBANs (`firstAccount` onwards).
 */
export async function planStorm(stack: E2EStack, attemptCount: number, duplicateShare = 0.05): Promise<StormPlan> {
  storms += 1;
  const sales = await createSales(stack, {
    prefix: `tth_storm${storms}_${Date.now().toString(36)}_`,
    count: attemptCount,
    firstAccount: 10_000_000 + storms * 1_000_000,
    notificationUrl: stack.sink.url,
  });
  await seedSaleAttempts(stack.database.db, sales);
  const chargebacks = new Map<string, string>();
  sales.forEach((sale, index) => {
    if (index % 10 === 0) chargebacks.set(sale.uniqueId, index % 20 === 0 ? 'MD06' : 'AM04');
  });
  // EMP's state is final before any notification goes out: whichever arrives first, EMP's answer is the end state.
  await chargeBack(stack, [...chargebacks].map(([uniqueId, reasonCode]) => ({ uniqueId, reasonCode })));
  const password = E2E_SECRETS.empPassword;
  const expected = new Map<string, AttemptStatus>();
  const perAttempt = await Promise.all(
    sales.map(async (sale) => {
      const events = [await saleNotification(sale, 'pending_async', password), await saleNotification(sale, 'approved', password)];
      if (chargebacks.has(sale.uniqueId)) events.push(await chargebackNotification(sale, password));
      expected.set(sale.transactionId, chargebacks.has(sale.uniqueId) ? 'chargebacked' : 'approved');
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
  return { notifications, uniqueKeys: new Set(flat.map((notification) => notification.dedupKey)), expected, sales, chargebacks };
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
  /** Per phase: notifications the backend recorded per second while it ran. */
  recordedPerSecond: number[];
  /** Per phase: notifications that got their verdict (EMP asked, its state applied) per second while it ran. */
  settledPerSecond: number[];
  durationSeconds: number;
  faultErrors: string[];
}

async function notificationCounts(stack: E2EStack): Promise<{ recorded: number; settled: number }> {
  const { rows } = await stack.database.pool.query<{ recorded: number; settled: number }>(
    `select count(*)::int as recorded, (count(*) filter (where outcome <> 'awaiting_confirmation'))::int as settled
     from webhook_events where source = 'notification'`,
  );
  return rows[0]!;
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
  const recordedPerSecond: number[] = [];
  const settledPerSecond: number[] = [];
  let offset = 0;
  for (const [index, phase] of phases.entries()) {
    // The last phase sends whatever is left: every attempt's events must go out for the end state to be judged.
    const count = index === phases.length - 1 ? plan.notifications.length - offset : Math.min(plan.notifications.length - offset, phase.rate * phase.seconds);
    const before = { at: Date.now(), ...(await notificationCounts(stack)) };
    await sender.sendAtRate(plan.notifications.slice(offset, offset + count), phase.rate);
    offset += count;
    const after = await notificationCounts(stack);
    const seconds = (Date.now() - before.at) / 1000;
    recordedPerSecond.push(Math.round((after.recorded - before.recorded) / seconds));
    settledPerSecond.push(Math.round((after.settled - before.settled) / seconds));
  }
  // Every fault has struck (and been undone) before the end state is judged.
  const lastFault = Math.max(0, ...faults.map((fault) => fault.atSecond));
  while (Date.now() - started < lastFault * 1_000 + 500) await new Promise((resolve) => setTimeout(resolve, 100));
  timers.forEach(clearTimeout);
  return { sender, markers, recordedPerSecond, settledPerSecond, durationSeconds: (Date.now() - started) / 1000, faultErrors };
}

/**
 * CPU milliseconds each part spent per notification settled between two `stack.cpuSeconds()` readings:
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

/** Waits until every echoed notification is recorded and none of them waits for EMP any more. */
async function settled(stack: E2EStack, keys: readonly string[], echoed: number, timeoutMs: number): Promise<{ recorded: number; waiting: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await stack.database.pool.query<{ recorded: number; waiting: number }>(
      `select count(*)::int as recorded, (count(*) filter (where outcome = 'awaiting_confirmation'))::int as waiting
       from webhook_events where dedup_key = any($1) and source = 'notification'`,
      [keys],
    );
    const state = rows[0]!;
    if ((state.recorded >= echoed && state.waiting === 0) || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A notification claimed by a node that was then killed waits for its lease (60 s,
 * backend/src/confirmation/confirm.ts) before another node takes it over: settling may take
 * that long after a kill, whatever the scenario's own timeout.
 */
export const CONFIRMATION_LEASE_MS = 60_000;

/**
 * Waits until every echoed notification has its verdict, then judges against EMP: each recorded
 * once (one row a dedup key, source notification), none left awaiting confirmation, none
 * rejected (all are genuine), every attempt in EMP's final status with each move applied once,
 * and exactly the IBANs whose EMP chargeback record carries a blacklisting reason code listed.
 */
export async function judgeStorm(stack: E2EStack, plan: StormPlan, run: StormRun, settleMs: number): Promise<StormJudgement> {
  // A notification never echoed fails the check below; the state is judged all the same.
  const drainError = await run.sender.drain(settleMs).then(
    () => undefined,
    (error: Error) => error.message,
  );
  const keys = [...plan.uniqueKeys];
  const state = await settled(stack, keys, run.sender.echoed.size, Math.max(settleMs, CONFIRMATION_LEASE_MS + 30_000));
  const pool = stack.database.pool;
  const transactionIds = [...plan.expected.keys()];
  const lost = (
    await pool.query<{ n: number }>(
      `select count(*)::int as n from unnest($1::text[]) k where not exists (select 1 from webhook_events e where e.dedup_key = k and e.source = 'notification')`,
      [[...run.sender.echoed]],
    )
  ).rows[0]!.n;
  const { rows: verdictRows } = await pool.query<{ outcome: string; reason: string | null; n: number }>(
    `select outcome, split_part(error, ':', 1) as reason, count(*)::int as n from webhook_events
     where dedup_key = any($1) and source = 'notification' group by 1, 2 order by 1, 2`,
    [keys],
  );
  const verdicts: Record<string, number> = {};
  for (const row of verdictRows) verdicts[row.outcome] = (verdicts[row.outcome] ?? 0) + row.n;
  const rejected = verdictRows.filter((row) => row.outcome === 'rejected');
  // A status move recorded twice on one attempt, or an attempt moved by more than one EMP answer.
  const appliedTwice = (
    await pool.query<{ n: number }>(
      `select count(*)::int as n from (
         select a.id, h->>'to' from billing_attempts a, jsonb_array_elements(a.history) h
         where a.transaction_id = any($1) and h ? 'to' group by 1, 2 having count(*) > 1) twice`,
      [transactionIds],
    )
  ).rows[0]!.n;
  const { rows: moves } = await pool.query<{ n: number; attempts: number }>(
    `select count(*)::int as n, count(distinct e.billing_attempt_id)::int as attempts from webhook_events e
     join billing_attempts a on a.id = e.billing_attempt_id
     where a.transaction_id = any($1) and e.source = 'emp_api' and e.outcome = 'applied'`,
    [transactionIds],
  );
  const { rows: statuses } = await pool.query<{ transaction_id: string; emp_unique_id: string; status: AttemptStatus; iban: string }>(
    'select a.transaction_id, a.emp_unique_id, a.status, d.iban from billing_attempts a join debtors d on d.id = a.debtor_id where a.transaction_id = any($1)',
    [transactionIds],
  );
  // EMP's final state, asked now: what every attempt must agree with.
  const emp = await empStatuses(stack);
  const empStatus = (uniqueId: string) => attemptStatusFromGenesis(emp.get(uniqueId) ?? '');
  const wrong = statuses.filter((row) => row.status !== empStatus(row.emp_unique_id) || row.status !== plan.expected.get(row.transaction_id));
  const wrongEvents = wrong[0]
    ? (
        await pool.query<{ source: string; dedup_key: string; outcome: string; error: string | null }>(
          'select source, dedup_key, outcome, error from webhook_events where transaction_id = $1 or unique_id = $2 or attempt_unique_id = $2 order by id',
          [wrong[0].transaction_id, wrong[0].emp_unique_id],
        )
      ).rows.map((event) => `${event.source} ${event.dedup_key}: ${event.outcome}${event.error ? ` (${event.error})` : ''}`)
    : [];
  // The blacklist: exactly the IBANs whose chargeback record at EMP carries a blacklisting reason code.
  const reasonCodes = await chargebackReasonCodes(stack, [...plan.chargebacks.keys()]);
  const ibanOf = new Map(plan.sales.map((sale) => [sale.uniqueId, sale.iban]));
  const shouldList = new Set(
    [...reasonCodes].filter(([, codes]) => codes.some((code) => reasonCodePolicy(code).action === 'blacklist')).map(([uniqueId]) => ibanOf.get(uniqueId)!),
  );
  const listed = new Set(
    (
      await pool.query<{ iban: string }>('select distinct iban from blacklist where removed_at is null and iban = any($1)', [plan.sales.map((sale) => sale.iban)])
    ).rows.map((row) => row.iban),
  );
  const listedWrong = [...new Set([...shouldList, ...listed])].filter((iban) => shouldList.has(iban) !== listed.has(iban));
  const recordsMatch = [...plan.chargebacks].every(([uniqueId, code]) => reasonCodes.get(uniqueId)?.includes(code));

  const redelivered = (
    await pool.query<{ n: number }>('select coalesce(sum(attempts - 1), 0)::int as n from webhook_events where dedup_key = any($1)', [keys])
  ).rows[0]!.n;
  // Recorded → verdict, per notification of the plan.
  const { rows: settleRows } = await pool.query<{ ms: number; first: Date; last: Date }>(
    `select extract(epoch from (processed_at - created_at)) * 1000 as ms, min(created_at) over () as first, max(processed_at) over () as last
     from webhook_events where dedup_key = any($1) and source = 'notification' and outcome <> 'awaiting_confirmation'`,
    [keys],
  );
  const settleMsSorted = settleRows.map((row) => Number(row.ms)).sort((a, b) => a - b);
  const span = settleRows[0] ? (new Date(settleRows[0].last).getTime() - new Date(settleRows[0].first).getTime()) / 1000 : Number.NaN;
  const fiveHundreds = Object.entries(run.sender.statuses)
    .filter(([status]) => status.startsWith('5'))
    .reduce((sum, [, count]) => sum + count, 0);

  const checks: Check[] = [
    { name: 'every notification sent was echoed in the end', passed: run.sender.pending === 0, detail: `${run.sender.echoed.size} of ${plan.uniqueKeys.size} distinct notifications echoed${drainError ? `; ${drainError}` : ''}` },
    {
      name: 'every echoed notification recorded once (one row a dedup key, source notification)',
      passed: lost === 0 && state.recorded === run.sender.echoed.size,
      detail: `${state.recorded} recorded for ${run.sender.echoed.size} echoed, ${lost} echoed but not recorded`,
    },
    { name: 'none left awaiting confirmation', passed: state.waiting === 0, detail: `${state.waiting} still awaiting confirmation` },
    {
      name: 'none rejected (every notification is genuine)',
      passed: rejected.length === 0,
      detail: `${verdicts.confirmed ?? 0} confirmed, ${verdicts.contradicted ?? 0} contradicted (an earlier status, overtaken at EMP), ${rejected.reduce((sum, row) => sum + row.n, 0)} rejected${rejected.map((row) => ` (${row.reason}: ${row.n})`).join('')}`,
    },
    {
      name: 'every attempt in EMP\'s final status',
      passed: wrong.length === 0 && statuses.length === plan.expected.size,
      detail: `${statuses.length - wrong.length} of ${plan.expected.size} agree with EMP${wrong[0] ? `; e.g. ${wrong[0].transaction_id} is ${wrong[0].status}, EMP says ${emp.get(wrong[0].emp_unique_id)}; its events: ${wrongEvents.join(', ') || 'none recorded'}` : ''}`,
    },
    {
      name: 'each effect applied once (one applied EMP answer per attempt, no move recorded twice)',
      passed: appliedTwice === 0 && moves[0]!.n === plan.expected.size && moves[0]!.attempts === plan.expected.size,
      detail: `${moves[0]!.n} EMP answers applied to ${moves[0]!.attempts} of ${plan.expected.size} attempts; ${appliedTwice} status moves recorded twice`,
    },
    {
      name: 'blacklisted: exactly the IBANs whose EMP chargeback record has a blacklisting reason code',
      passed: listedWrong.length === 0 && recordsMatch && shouldList.size > 0,
      detail: `${plan.chargebacks.size} chargebacks at EMP, ${shouldList.size} with a blacklisting code, ${listed.size} IBANs listed, ${listedWrong.length} wrong`,
    },
  ];
  if (run.faultErrors.length > 0) checks.push({ name: 'every fault injected', passed: false, detail: run.faultErrors.join('; ') });
  const round = (value: number) => Math.round(value);
  return {
    checks,
    events: { sent: run.sender.sent, unique: plan.uniqueKeys.size, applied: state.recorded - state.waiting, lost, duplicated: appliedTwice },
    figures: {
      'deliveries beyond the first (absorbed by the backend)': redelivered,
      '5xx answers': fiveHundreds,
      'verdicts: confirmed': verdicts.confirmed ?? 0,
      'verdicts: contradicted': verdicts.contradicted ?? 0,
      'verdicts: rejected': verdicts.rejected ?? 0,
      'notifications settled (recorded → verdict) p50 ms': round(percentile(settleMsSorted, 50)),
      'notifications settled (recorded → verdict) p99 ms': round(percentile(settleMsSorted, 99)),
      'notifications settled per second (first recorded → last verdict)': Math.round((settleRows.length / span) * 10) / 10,
      'IBANs blacklisted': listed.size,
    },
  };
}
