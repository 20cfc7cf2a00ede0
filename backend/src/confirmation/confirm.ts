/**
 * Confirms notifications with EMP before anything changes. Notifications wait in webhook_events as
 * awaiting_confirmation (committed before QStash is answered, so a node kill or an EMP outage
 * delays them and never loses one). A pass claims the due ones with a lease, asks EMP about their
 * signed ids (emp-answers.ts), judges each claim by the answer (verdict.ts), applies EMP's answer
 * through the events path (the same dedup keys as reconciliation: one state, one event), and
 * records the verdict on the notification. When EMP cannot be asked, the notification waits
 * with a back-off. Deliveries never wait for this: other events go on meanwhile.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { attemptStatusFromGenesis, referenceTarget } from '@tether/shared/genesis-meaning';
import { identifyNotification } from '@tether/shared/notification';
import { sql } from 'drizzle-orm';
import type { BillingContext } from '../billing/context';
import { genesisAnswerEvent } from '../billing/genesis-answer-event';
import { chargebackRecordEvent, recordUnusableChargeback } from '../events/chargeback-records';
import { describeError } from '../events/describe-error';
import { recordOutcome } from '../events/metrics';
import type { NotificationVerdict } from '../events/outcome';
import { processEvents, type IncomingEvent } from '../events/process';
import { chargebackRecordFromGenesis } from '../reconciliation/chargeback-record';
import { recordRefundAnswer } from '../refunds/outcome';
import { answerKey, askEmp, type EmpAnswer, type SignedId } from './emp-answers';
import { debitOf, judgeNotification, type AttemptFacts, type Judgement } from './verdict';

/** A claimed notification is someone else's for this long; past it, another pass may take it over. */
const LEASE_MS = 60_000;
/** Back-off after EMP could not be asked: 2 s, 4 s, … up to 5 minutes. */
const MAX_BACKOFF_MS = 5 * 60_000;

export interface ConfirmationSummary {
  claimed: number;
  confirmed: number;
  contradicted: number;
  rejected: number;
  /** Left waiting: EMP could not be asked. */
  deferred: number;
}

type Waiting = {
  id: number;
  dedup_key: string;
  payload: Record<string, string>;
  received_at: Date;
  attempts: number;
};

async function claimDue(context: BillingContext, limit: number): Promise<Waiting[]> {
  const { rows } = await context.db.execute<Waiting>(sql`
    update webhook_events e set confirm_after = clock_timestamp() + ${LEASE_MS} * interval '1 millisecond'
    from (select id from webhook_events
          where outcome = 'awaiting_confirmation' and confirm_after <= clock_timestamp()
          order by confirm_after, id limit ${limit}
          for update skip locked) due
    where e.id = due.id
    returning e.id, e.dedup_key, e.payload, e.received_at, e.attempts`);
  return rows.map((row) => ({ ...row, received_at: new Date(row.received_at) }));
}

function signedIdOf(payload: Record<string, string>): Omit<SignedId, 'sentAt'> | undefined {
  try {
    const identity = identifyNotification(payload);
    return identity.kind === 'api' || identity.kind === 'wpf' ? { kind: identity.kind, id: identity.id } : undefined;
  } catch {
    return undefined;
  }
}

/** When Tether sent the sales that already hold these unique_ids. */
async function sendTimes(context: BillingContext, uniqueIds: string[]): Promise<Map<string, Date>> {
  if (uniqueIds.length === 0) return new Map();
  const { rows } = await context.db.execute<{ emp_unique_id: string; sent_at: Date | null }>(sql`
    select emp_unique_id, sent_at from billing_attempts where emp_unique_id = any(${sql.param(uniqueIds)}::text[])`);
  return new Map(rows.flatMap((row) => (row.sent_at ? [[row.emp_unique_id, new Date(row.sent_at)] as const] : [])));
}

/** The attempts EMP's answers identify: by unique_id first, by Tether's transaction_id second. */
async function attemptsOf(context: BillingContext, answers: Iterable<EmpAnswer>) {
  const debits = [...answers].flatMap((answer) => (answer.found === true ? (debitOf(answer) ?? []) : []));
  const uniqueIds = [...new Set(debits.flatMap((debit) => debit.uniqueId ?? []))];
  const transactionIds = [...new Set(debits.flatMap((debit) => debit.transactionId ?? []))];
  const byUniqueId = new Map<string, AttemptFacts>();
  const byTransactionId = new Map<string, AttemptFacts>();
  if (debits.length > 0) {
    const { rows } = await context.db.execute<{ id: number; transaction_id: string; emp_unique_id: string | null; amount_cents: number; currency: string; status: AttemptStatus }>(sql`
      select id, transaction_id, emp_unique_id, amount_cents, currency, status from billing_attempts
      where id = any(array(
        select id from billing_attempts where emp_unique_id = any(${sql.param(uniqueIds)}::text[])
        union
        select id from billing_attempts where transaction_id = any(${sql.param(transactionIds)}::text[])))`);
    for (const row of rows) {
      const facts = {
        id: row.id,
        transactionId: row.transaction_id,
        empUniqueId: row.emp_unique_id,
        amountCents: Number(row.amount_cents),
        currency: row.currency,
        status: row.status,
      };
      if (row.emp_unique_id) byUniqueId.set(row.emp_unique_id, facts);
      byTransactionId.set(row.transaction_id, facts);
    }
  }
  return (answer: EmpAnswer): AttemptFacts | undefined => {
    if (answer.found !== true) return undefined;
    const debit = debitOf(answer);
    return (debit?.uniqueId && byUniqueId.get(debit.uniqueId)) || (debit?.transactionId && byTransactionId.get(debit.transactionId)) || undefined;
  };
}

/** The chargeback records of charged-back debits, which carry the reason codes the blacklist needs. */
async function chargebackEvents(context: BillingContext, debitUniqueId: string): Promise<IncomingEvent[]> {
  await context.reconcileLimiter.acquire();
  context.events.metrics.confirmationRequests.inc({ request: 'chargebacks' });
  const page = await context.genesis.chargebacksOfTransaction(debitUniqueId);
  for (const record of page.unusable) {
    context.metrics.unusableChargebacks.inc();
    context.log.error({ ...record, debitUniqueId }, 'chargeback record unusable: left out');
    await recordUnusableChargeback(context.events, record);
  }
  return page.items.flatMap((genesisRecord) => {
    const record = chargebackRecordFromGenesis(genesisRecord);
    return record ? [chargebackRecordEvent(record)] : [];
  });
}

interface Decided {
  row: Waiting;
  judgement: Judgement;
  answer: EmpAnswer;
  effectKey?: string;
}

/** Applies EMP's answers (chargeback records first, then the debit's state) and returns the effect's event id by dedup key. */
async function applyTruth(context: BillingContext, decided: readonly Decided[]): Promise<Map<string, number>> {
  const effects: IncomingEvent[] = [];
  for (const item of decided) {
    const { judgement } = item;
    if (judgement.verdict === 'rejected') continue;
    if (judgement.readChargebacks && judgement.debit.uniqueId) effects.push(...(await chargebackEvents(context, judgement.debit.uniqueId)));
    // A refund's notification: EMP's state of the refund itself goes on Tether's refund, which moves the attempt.
    const signed = item.answer.found === true ? item.answer.transaction : undefined;
    if (signed && signed !== judgement.debit && referenceTarget(signed.transactionType ?? '') === 'refunded') {
      const recording = await recordRefundAnswer(context.db, signed, 'notification');
      if (!recording.recorded) context.log.warn({ eventId: item.row.id, why: recording.why }, 'refund notification confirmed, but the refund is not one Tether knows');
    }
    // Already so: nothing to write. A replayed pair then costs EMP a request and Tether no write.
    const { attempt, debit } = judgement;
    if (attempt.status === attemptStatusFromGenesis(debit.status) && attempt.empUniqueId === debit.uniqueId) continue;
    const effect = genesisAnswerEvent(debit, 'reconcile', debit.transactionId!);
    item.effectKey = effect.dedupKey;
    effects.push(effect);
  }
  const ids = new Map<string, number>();
  if (effects.length === 0) return ids;
  const results = await processEvents(context.events, effects);
  effects.forEach((effect, index) => ids.set(effect.dedupKey, results[index]!.eventId));
  return ids;
}

async function recordVerdicts(context: BillingContext, decided: readonly Decided[], effectIds: Map<string, number>) {
  const rows = decided.map(({ row, judgement, answer, effectKey }) => ({
    id: row.id,
    outcome: judgement.verdict satisfies NotificationVerdict,
    error: `${judgement.reason}: ${judgement.detail}`,
    emp_answer: answer.found === true ? { transaction: answer.transaction, original: answer.original, wpf_transaction_id: answer.wpfTransactionId } : { found: false, reason: answer.found === false ? answer.reason : undefined },
    effect_event_id: effectKey ? (effectIds.get(effectKey) ?? null) : null,
    billing_attempt_id: judgement.verdict === 'rejected' ? null : judgement.attempt.id,
    attempt_unique_id: judgement.verdict === 'rejected' ? null : (judgement.debit.uniqueId ?? null),
  }));
  await context.db.execute(sql`
    update webhook_events e set outcome = v.outcome, error = v.error, emp_answer = v.emp_answer, effect_event_id = v.effect_event_id,
           billing_attempt_id = v.billing_attempt_id, attempt_unique_id = v.attempt_unique_id, confirm_after = null,
           processed_at = clock_timestamp()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(
      id bigint, outcome text, error text, emp_answer jsonb, effect_event_id bigint, billing_attempt_id bigint, attempt_unique_id text)
    where e.id = v.id and e.outcome = 'awaiting_confirmation'`);
  for (const { row, judgement } of decided) {
    context.events.metrics.verdicts.inc({ verdict: judgement.verdict, reason: judgement.reason });
    recordOutcome(context.events.metrics, judgement.verdict, row.received_at);
    const details = { eventId: row.id, reason: judgement.reason, detail: judgement.detail };
    if (judgement.verdict === 'rejected') context.log.warn(details, 'notification rejected: EMP does not confirm it; nothing changed');
    else if (judgement.verdict === 'contradicted') context.log.info(details, 'notification contradicted by EMP; EMP\'s state applied');
  }
}

async function defer(context: BillingContext, rows: readonly Waiting[], error: string) {
  if (rows.length === 0) return;
  await context.db.execute(sql`
    update webhook_events e set error = ${`not settled yet: ${error}`}, attempts = e.attempts + 1,
           confirm_after = clock_timestamp() + least(${MAX_BACKOFF_MS}, 1000 * power(2, least(e.attempts, 20))) * interval '1 millisecond'
    where e.id = any(${sql.param(rows.map((row) => row.id))}::bigint[]) and e.outcome = 'awaiting_confirmation'`);
  context.events.metrics.confirmationsDeferred.inc({ reason: 'emp_unavailable' }, rows.length);
}

/** One round: claims up to `limit` due notifications and settles each (or defers it). */
/** Notifications a round claims: enough for by-date pages to fill (100 a page), few enough to settle well within the lease. */
const ROUND = 2_000;

/** A claimed round with EMP's answers, judged and ready to be settled. */
interface AskedRound {
  claimed: number;
  decided: Decided[];
  waiting: Waiting[];
  waitReason: string;
  /** Not asked about this round: given back to be claimed again at once. */
  later: Waiting[];
}

/** Claims up to `limit` due notifications, asks EMP about them and judges each. */
async function askRound(context: BillingContext, limit: number): Promise<AskedRound> {
  const due = await claimDue(context, limit);
  const round: AskedRound = { claimed: due.length, decided: [], waiting: [], waitReason: '', later: [] };
  if (due.length === 0) return round;

  const signed = new Map<number, Omit<SignedId, 'sentAt'>>();
  for (const row of due) {
    const id = signedIdOf(row.payload);
    if (id) signed.set(row.id, id);
    else round.decided.push({ row, judgement: { verdict: 'rejected', reason: 'unreadable_claim', detail: 'no signed id' }, answer: { found: false, reason: 'unknown_transaction' } });
  }
  const times = await sendTimes(context, [...signed.values()].filter((id) => id.kind === 'api').map((id) => id.id));
  const ids = [...new Map([...signed.values()].map((id) => [answerKey(id), { ...id, sentAt: id.kind === 'api' ? times.get(id.id) : undefined }])).values()];
  const answers = await askEmp({ ...context, metrics: context.events.metrics }, ids);
  const attemptOf = await attemptsOf(context, answers.values());
  for (const row of due) {
    const id = signed.get(row.id);
    if (!id) continue;
    const answer = answers.get(answerKey(id))!;
    if (answer.found === 'unavailable') {
      round.waiting.push(row);
      round.waitReason = answer.error;
      continue;
    }
    if (answer.found === 'later') {
      round.later.push(row);
      continue;
    }
    round.decided.push({ row, answer, judgement: judgeNotification(row.payload, answer, attemptOf(answer), context.terminalToken) });
  }
  return round;
}

/** Applies EMP's answers and records the verdicts; what could not be settled waits. */
async function settleRound(context: BillingContext, round: AskedRound): Promise<ConfirmationSummary> {
  const summary: ConfirmationSummary = { claimed: round.claimed, confirmed: 0, contradicted: 0, rejected: 0, deferred: 0 };
  const waiting = [...round.waiting];
  let waitReason = round.waitReason;
  try {
    const effectIds = await applyTruth(context, round.decided);
    await recordVerdicts(context, round.decided, effectIds);
    for (const { judgement } of round.decided) summary[judgement.verdict]++;
  } catch (error) {
    // Chargeback records could not be read, or the effects not committed: nothing is recorded as
    // settled, so every one of them waits and is asked about again.
    waitReason = describeError(error);
    waiting.push(...round.decided.map((item) => item.row));
    context.log.warn({ error: waitReason, notifications: round.decided.length }, 'confirmed notifications not settled; they wait');
  }
  await defer(context, waiting, waitReason);
  await giveBack(context, round.later);
  summary.deferred = waiting.length;
  return summary;
}

async function giveBack(context: BillingContext, rows: readonly Waiting[]) {
  if (rows.length === 0) return;
  await context.db.execute(sql`
    update webhook_events set confirm_after = clock_timestamp()
    where id = any(${sql.param(rows.map((row) => row.id))}::bigint[]) and outcome = 'awaiting_confirmation'`);
}

/** One round: claims up to `limit` due notifications and settles each (or defers it). */
export async function confirmDueNotifications(context: BillingContext, limit = ROUND): Promise<ConfirmationSummary> {
  return settleRound(context, await askRound(context, limit));
}

/**
 * Rounds until nothing is due; what is left waits for its back-off. While one round's answers
 * are applied, the next round is already asking EMP: the rate limit, not the database, sets the pace.
 */
export async function confirmAllDue(context: BillingContext): Promise<ConfirmationSummary> {
  const total: ConfirmationSummary = { claimed: 0, confirmed: 0, contradicted: 0, rejected: 0, deferred: 0 };
  let asking = askRound(context, ROUND);
  for (;;) {
    const asked = await asking;
    if (asked.claimed === 0) return total;
    // A round EMP could not answer at all means EMP is down: the back-off decides when to ask again.
    const emptyHanded = asked.waiting.length === asked.claimed;
    if (!emptyHanded) asking = askRound(context, ROUND);
    const round = await settleRound(context, asked).catch(async (error: unknown) => {
      if (!emptyHanded) await asking.catch(() => undefined);
      throw error;
    });
    for (const key of Object.keys(total) as Array<keyof ConfirmationSummary>) total[key] += round[key];
    if (emptyHanded) return total;
  }
}

/** When the next waiting notification is due, if any waits. */
export async function nextConfirmationDue(context: BillingContext): Promise<Date | undefined> {
  const { rows } = await context.db.execute<{ due: Date | null }>(sql`
    select min(confirm_after) as due from webhook_events where outcome = 'awaiting_confirmation'`);
  return rows[0]?.due ? new Date(rows[0].due) : undefined;
}
