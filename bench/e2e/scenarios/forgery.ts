/**
 * Forgery: an attacker holds ONE valid notification pair — the unique_id and signature of a real
 * notification about an attempt of their own (a genuine approved sale at EMP) — and sends variants
 * of it while genuine notifications flow. A Genesis signature covers only the id (and the API
 * password), so the edge accepts every variant; what the backend makes of them is the point:
 *
 * - variants naming another transaction (original_transaction_unique_id or
 *   reference_transaction_unique_id on a chargeback or reference record, or transaction_id) are
 *   rejected as names_another_transaction: EMP confirms the signed id, and it is not theirs;
 * - variants about the signed transaction itself with another status, event or amount are
 *   contradicted: EMP's state is applied, and the attempt already has it, so nothing changes;
 * - WPF-shaped variants (wpf_unique_id = the pair's id, naming victims through wpf_transaction_id
 *   or payment_transaction_unique_id) are rejected as unknown_transaction: EMP knows no such form.
 *
 * Each variant differs from the others in kind, transaction_type, event or status, so that the
 * edge's deduplication (kind:id:transaction_type:event:status) lets it through; a few repeat a key
 * on purpose, with another target, and are deduplicated at the edge.
 */
import { attemptStatusFromGenesis } from '@tether/shared/genesis-meaning';
import { seedSaleAttempts } from '../../events/fixtures';
import { EmpSender, saleNotification, signed, type Notification } from '../emp';
import type { Check, ScenarioResult } from '../results';
import { changeSaleStatus, createSales, type SimSale } from '../sales';
import { E2E_SECRETS, type E2EStack } from '../stack';
import { judgeStorm, planStorm, runStorm } from '../storm';

export interface ForgeryOptions {
  /** Forged variants sent (some deduplicated at the edge). */
  variants: number;
  /** The attacker's rate, notifications per second. */
  attackRate: number;
  /** Settled attempts named as victims (a quarter of them declined at EMP, the rest approved). */
  victims: number;
  /** The genuine traffic meanwhile: a modest storm. */
  genuine: { rate: number; seconds: number };
  settleMs: number;
  /**
   * 'interleaved' (the default): API and WPF variants mixed, as an attacker would send them, so
   * that API and WPF notifications signed over the same id are judged in the same confirmation
   * rounds (EMP's answers must be told apart by kind as well as id: d3e8089).
   * 'apart' (E2E_FORGERY_WPF=apart): the API variants first, the WPF ones once those are judged.
   */
  wpf?: 'apart' | 'interleaved';
}

type Expectation = 'names_another_transaction' | 'unknown_transaction' | 'contradicted';

interface Variant {
  kind: 'api' | 'wpf';
  notification: Notification;
  expect: Expectation;
  /** What the variant plays with, for the report. */
  shape: string;
}

const STATUSES = ['chargebacked', 'voided', 'refunded', 'declined', 'error', 'chargeback_reversed', 'approved', 'pending_async', 'second_chargebacked', 'representment_reversed', 'unsuccessful', 'settled_maybe'];
const EVENTS = ['', 'chargeback', 'representment_reversal', 'second_chargeback', 'retrieval_request', 'chargeback_reversal', 'representment', 'rapid_dispute_resolution', 'fraud_alert_x'];
const TYPES = ['sdd_sale', 'chargeback', 'sdd_refund', 'void', 'sdd_init_recurring_sale', 'second_chargeback', 'refund', 'sdd_recurring_sale'];
/** Types under which a record names its original by original_/reference_transaction_unique_id. */
const REFERENCE_TYPES = new Set(['chargeback', 'sdd_refund', 'void', 'second_chargeback', 'refund']);
const REASON_CODES = ['MD06', 'MD01', 'AC04', 'AM04', 'MS03', 'SL01', 'AC06'];
/** Never the sale's 1990: a variant about the pair itself always contradicts EMP somewhere. */
const FORGED_AMOUNTS = ['1', '199000', '0', '1989', '19.90', '-1990'];

const shuffle = <T>(items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
};

/**
 * `count` variants of the pair: every (kind, type, event, status) combination once, in random
 * order, each with a target, an amount and a reason code; about 5 % repeat an earlier key.
 */
async function forgeVariants(pair: SimSale, victims: readonly SimSale[], count: number): Promise<Variant[]> {
  const password = E2E_SECRETS.empPassword;
  const combinations = shuffle(
    (['api', 'wpf'] as const).flatMap((kind) => TYPES.flatMap((type) => EVENTS.flatMap((event) => STATUSES.map((status) => ({ kind, type, event, status }))))),
  );
  const variants: Variant[] = [];
  const pick = <T>(items: readonly T[], index: number) => items[index % items.length]!;
  for (let index = 0; variants.length < count; index++) {
    const repeat = index > 20 && index % 20 === 0;
    const combination = repeat ? combinations[index - 7]! : combinations[index % combinations.length]!;
    const victim = pick(victims, index * 7 + 3);
    const amount = pick(FORGED_AMOUNTS, index);
    const reason = pick(REASON_CODES, index);
    const { kind, type, event, status } = combination;
    const common = { terminal_token: E2E_SECRETS.terminal, reason_code: reason, rc_code: reason, ...(event ? { event } : {}) };
    if (kind === 'wpf') {
      // Signed over wpf_unique_id: the pair's id, with the pair's signature.
      const namesVictimBy = pick(['wpf_transaction_id', 'payment_transaction_unique_id', 'both'], index);
      const fields = {
        ...common,
        wpf_unique_id: pair.uniqueId,
        wpf_transaction_id: namesVictimBy === 'payment_transaction_unique_id' ? pair.transactionId : victim.transactionId,
        wpf_status: status,
        payment_transaction_unique_id: namesVictimBy === 'wpf_transaction_id' ? pair.uniqueId : victim.uniqueId,
        payment_transaction_transaction_type: type,
        payment_transaction_amount: amount,
      };
      variants.push({ kind, notification: await signed(fields, password), expect: 'unknown_transaction', shape: `wpf, names a victim by ${namesVictimBy}` });
      continue;
    }
    const base = { ...common, unique_id: pair.uniqueId, transaction_type: type, status, amount };
    const namesOriginal = Boolean(event) || REFERENCE_TYPES.has(type);
    // A quarter about the pair itself; the rest name a victim through every field that names one.
    const target = index % 4 === 0 ? 'self' : namesOriginal ? pick(['original_transaction_unique_id', 'reference_transaction_unique_id', 'transaction_id'], index) : 'transaction_id';
    let fields: Record<string, string>;
    if (target === 'self') fields = { ...base, transaction_id: pair.transactionId };
    else if (target === 'transaction_id') fields = { ...base, transaction_id: victim.transactionId };
    else fields = { ...base, transaction_id: pair.transactionId, [target]: victim.uniqueId };
    variants.push({
      kind,
      notification: await signed(fields, password),
      expect: target === 'self' ? 'contradicted' : 'names_another_transaction',
      shape: target === 'self' ? 'api, about the signed transaction' : `api, names a victim by ${target}`,
    });
  }
  return variants;
}

interface AttemptState {
  transaction_id: string;
  status: string;
  emp_status: string | null;
  emp_unique_id: string | null;
  error_code: string | null;
  error_message: string | null;
  history: unknown;
}

async function attemptStates(stack: E2EStack, transactionIds: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await stack.database.pool.query<AttemptState>(
    'select transaction_id, status, emp_status, emp_unique_id, error_code, error_message, history from billing_attempts where transaction_id = any($1)',
    [transactionIds],
  );
  return new Map(rows.map((row) => [row.transaction_id, JSON.stringify(row)]));
}

export async function forgeryScenario(stack: E2EStack, options: ForgeryOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const pool = stack.database.pool;
  // The attacker's own sale and the victims': approved at EMP, a quarter of the victims declined.
  const sales = await createSales(stack, {
    prefix: `tth_forgery_${Date.now().toString(36)}_`,
    count: options.victims + 1,
    firstAccount: 9_000_000,
    notificationUrl: stack.sink.url,
  });
  const [pair, ...victims] = sales as [SimSale, ...SimSale[]];
  const declined = victims.filter((_, index) => index % 4 === 0);
  await changeSaleStatus(stack, declined.map((sale) => sale.uniqueId), 'declined');
  // Their attempts already in EMP's state, as their own notifications left them.
  await seedSaleAttempts(stack.database.db, [pair, ...victims.filter((sale) => !declined.includes(sale))], 'approved');
  await seedSaleAttempts(stack.database.db, declined, 'declined');

  // The pair: the real notification of the attacker's sale, delivered (and confirmed) before the attack.
  const pairNotification = await saleNotification(pair, 'approved', E2E_SECRETS.empPassword);
  const pairSender = new EmpSender(stack.urls.notifications, { resendAfterMs: 1_000, timeoutMs: 10_000, maxInFlight: 4 });
  pairSender.trySend(pairNotification);
  await pairSender.drain(options.settleMs);
  const pairVerdict = async () =>
    (await pool.query<{ outcome: string; error: string | null }>('select outcome, error from webhook_events where dedup_key = $1', [pairNotification.dedupKey])).rows[0];
  const waitUntilSettled = Date.now() + options.settleMs;
  while ((await pairVerdict())?.outcome !== 'confirmed' && Date.now() < waitUntilSettled) await new Promise((resolve) => setTimeout(resolve, 200));
  const pairRow = await pairVerdict();

  // Genuine traffic meanwhile: a modest storm about other sales; some of its attempts are named by the attacker too.
  const genuine = await planStorm(stack, Math.ceil((options.genuine.rate * options.genuine.seconds) / 2.2));
  const targets = [...victims, ...genuine.sales.filter((_, index) => index % 5 === 0)];
  const variants = await forgeVariants(pair, targets, options.variants);
  const watched = [pair, ...victims].map((sale) => sale.transactionId);
  const before = await attemptStates(stack, watched);
  const blacklistedBefore = (await pool.query<{ n: number }>('select count(*)::int as n from blacklist where iban = any($1)', [[pair, ...victims].map((sale) => sale.iban)])).rows[0]!.n;

  const attacker = new EmpSender(stack.urls.notifications, { resendAfterMs: 1_000, timeoutMs: 10_000, maxInFlight: 64 });
  const interleaved = (options.wpf ?? process.env.E2E_FORGERY_WPF) !== 'apart';
  const apiVariants = variants.filter((variant) => variant.kind === 'api');
  const wpfVariants = variants.filter((variant) => variant.kind === 'wpf');
  /** Waits until every variant's key that reached the backend has its verdict. */
  const judgedAll = async (sent: readonly Variant[]) => {
    const keys = [...new Set(sent.map((variant) => variant.notification.dedupKey))];
    const deadline = Date.now() + options.settleMs;
    for (;;) {
      const { rows } = await pool.query<{ recorded: number; waiting: number }>(
        `select count(*)::int as recorded, (count(*) filter (where outcome = 'awaiting_confirmation'))::int as waiting from webhook_events where dedup_key = any($1)`,
        [keys],
      );
      if ((rows[0]!.recorded >= keys.length && rows[0]!.waiting === 0) || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const attack = async () => {
    // The genuine storm is under way first, and still runs when the attack ends.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const attackStarted = Date.now();
    if (interleaved) {
      await attacker.sendAtRate(variants.map((variant) => variant.notification), options.attackRate);
    } else {
      await attacker.sendAtRate(apiVariants.map((variant) => variant.notification), options.attackRate);
      await attacker.drain(options.settleMs).catch(() => undefined);
      await judgedAll(apiVariants);
      await attacker.sendAtRate(wpfVariants.map((variant) => variant.notification), options.attackRate);
    }
    return (Date.now() - attackStarted) / 1000;
  };
  const [run, attackSeconds] = await Promise.all([runStorm(stack, genuine, [{ rate: options.genuine.rate, seconds: options.genuine.seconds }]), attack()]);
  const attackerDrain = await attacker.drain(options.settleMs).then(
    () => undefined,
    (error: Error) => error.message,
  );
  const judged = await judgeStorm(stack, genuine, run, options.settleMs);

  // What reached the backend: the first of each key; the rest (and any repeat of the genuine pair's key) the edge deduplicated.
  const forgedKeys = new Set(variants.map((variant) => variant.notification.dedupKey));
  forgedKeys.delete(pairNotification.dedupKey);
  const dedupedAtEdge = variants.length - forgedKeys.size;
  // Variants sharing a key race to the edge: whichever claims the key first is the one forwarded.
  // What the backend judged is told by the recorded payload (kept without the signature).
  const canonical = (fields: Record<string, string>) =>
    JSON.stringify(Object.entries(fields).filter(([name]) => name !== 'signature').sort(([a], [b]) => a.localeCompare(b)));
  const variantOf = new Map(variants.map((variant) => [canonical(Object.fromEntries(new URLSearchParams(variant.notification.body))), variant]));
  const keys = [...forgedKeys];
  const settleDeadline = Date.now() + options.settleMs;
  type Row = { dedup_key: string; outcome: string; reason: string; billing_attempt_id: number | null; source: string; payload: Record<string, string> };
  let rows: Row[] = [];
  for (;;) {
    rows = (
      await pool.query<Row>(
        `select dedup_key, outcome, split_part(error, ':', 1) as reason, billing_attempt_id, source, payload from webhook_events where dedup_key = any($1)`,
        [keys],
      )
    ).rows;
    if ((rows.length >= keys.length && rows.every((row) => row.outcome !== 'awaiting_confirmation')) || Date.now() > settleDeadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const pairAttemptId = (await pool.query<{ id: number }>('select id from billing_attempts where transaction_id = $1', [pair.transactionId])).rows[0]!.id;

  const byVerdict: Record<string, number> = {};
  for (const row of rows) {
    const label = `${row.outcome}: ${row.reason}`;
    byVerdict[label] = (byVerdict[label] ?? 0) + 1;
  }
  const confirmed = rows.filter((row) => row.outcome === 'confirmed');
  const neitherRejectedNorContradicted = rows.filter((row) => row.outcome !== 'rejected' && row.outcome !== 'contradicted');
  const contradictedElsewhere = rows.filter((row) => row.outcome === 'contradicted' && row.billing_attempt_id !== pairAttemptId);
  const unexpected = rows.filter((row) => {
    const expected = variantOf.get(canonical(row.payload))?.expect;
    return expected === 'contradicted' ? row.outcome !== 'contradicted' : row.outcome !== 'rejected' || row.reason !== expected;
  });
  const after = await attemptStates(stack, watched);
  const changed = watched.filter((transactionId) => before.get(transactionId) !== after.get(transactionId));
  const blacklistedAfter = (await pool.query<{ n: number }>('select count(*)::int as n from blacklist where iban = any($1)', [[pair, ...victims].map((sale) => sale.iban)])).rows[0]!.n;
  const empPair = attemptStatusFromGenesis((await stack.sim<{ status: string }>('GET', `/transactions/${pair.uniqueId}`)).status);
  const describeRow = (row: Row | undefined) =>
    row ? `${variantOf.get(canonical(row.payload))?.shape ?? 'a payload no variant had'} (${row.dedup_key}) → ${row.outcome}: ${row.reason}` : '';

  const checks: Check[] = [
    {
      name: 'the genuine pair was delivered and confirmed before the attack',
      passed: pairRow?.outcome === 'confirmed',
      detail: `the pair's notification: ${pairRow ? `${pairRow.outcome} (${pairRow.error})` : 'not recorded'}`,
    },
    {
      name: 'every forged variant was echoed (the edge cannot tell them from EMP\'s)',
      passed: attacker.pending === 0,
      detail: `${variants.length} sent, ${attacker.echoed.size} distinct echoed, ${dedupedAtEdge} deduplicated at the edge${attackerDrain ? `; ${attackerDrain}` : ''}`,
    },
    {
      name: 'zero attempts changed by the attacker (the pair\'s and the victims\' status, history and error columns as before)',
      passed: changed.length === 0 && after.size === watched.length,
      detail: `${changed.length} of ${watched.length} changed${changed[0] ? `; e.g. ${changed[0]}: ${before.get(changed[0])} → ${after.get(changed[0])}` : ''}; the pair's attempt is ${JSON.parse(after.get(pair.transactionId) ?? '{}').status}, EMP says ${empPair}`,
    },
    { name: 'zero IBANs listed by the attacker', passed: blacklistedAfter === blacklistedBefore && blacklistedAfter === 0, detail: `${blacklistedAfter} of the pair's and victims' IBANs on the blacklist` },
    {
      name: 'every forged variant that reached the backend recorded once and judged rejected or contradicted, never confirmed',
      passed: rows.length === keys.length && confirmed.length === 0 && neitherRejectedNorContradicted.length === 0 && rows.every((row) => row.source === 'notification'),
      detail: `${rows.length} of ${keys.length} distinct variants recorded; ${confirmed.length} confirmed, ${neitherRejectedNorContradicted.length} neither rejected nor contradicted${neitherRejectedNorContradicted[0] ? ` (e.g. ${describeRow(neitherRejectedNorContradicted[0])})` : ''}`,
    },
    {
      name: 'variants naming another transaction rejected (names_another_transaction), WPF variants rejected (unknown_transaction), variants about the signed transaction contradicted',
      passed: unexpected.length === 0 && rows.length > 0,
      detail: `${rows.length - unexpected.length} of ${rows.length} as expected${unexpected[0] ? `; e.g. ${describeRow(unexpected[0])}` : ''}`,
    },
    {
      name: 'a contradicted variant only ever concerns the signed transaction (EMP\'s state applied to the pair\'s attempt, which already has it)',
      passed: contradictedElsewhere.length === 0,
      detail: `${rows.filter((row) => row.outcome === 'contradicted').length} contradicted, ${contradictedElsewhere.length} on another attempt`,
    },
    ...judged.checks.map((check) => ({ ...check, name: `genuine traffic: ${check.name}` })),
  ];
  return {
    name: 'forgery',
    description:
      'An attacker replays one valid notification pair (unique_id + signature of their own approved sale) as hundreds of variants naming other transactions, statuses, events, reason codes, amounts, API and WPF shapes, while genuine notifications flow.',
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    load: `${variants.length} forged variants (${apiVariants.length} API, ${wpfVariants.length} WPF${interleaved ? ', interleaved' : ', the WPF ones after the API ones were judged'}) at ${options.attackRate}/s (${victims.length} settled victims and ${targets.length - victims.length} attempts of the genuine storm named), genuine storm ${options.genuine.rate}/s for ${options.genuine.seconds} s`,
    latencyMs: run.sender.latency(),
    events: judged.events,
    statuses: attacker.statuses,
    timeline: run.sender.timeline(),
    checks,
    figures: {
      'forged variants sent': variants.length,
      'attack duration s': Math.round(attackSeconds * 10) / 10,
      'genuine storm duration s': Math.round(run.durationSeconds * 10) / 10,
      'forged variants deduplicated at the edge': dedupedAtEdge,
      'forged variants that reached the backend': rows.length,
      ...Object.fromEntries(Object.entries(byVerdict).sort().map(([label, n]) => [`forged ${label}`, n])),
      ...Object.fromEntries(Object.entries(judged.figures).map(([label, value]) => [`genuine: ${label}`, value])),
    },
  };
}
