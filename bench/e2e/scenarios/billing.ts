/**
 * Scenario 1, and the billing-run fault of scenario 3: an operator uploads a debtor file and
 * bills it; the simulator approves most sales, declines some and charges a few back; its
 * notifications travel edge → QStash → load balancer → a node. At the end every attempt is in
 * the status the simulator decided, every chargeback with a blacklisting reason code has
 * blacklisted its IBAN (and no other has), nobody was charged twice, and EMP's front door never
 * counted more sales in one second than EMP_RATE_LIMIT.
 */
import { reasonCodePolicy } from '@tether/shared/reason-codes';
import { countsPerWindow } from '../../../dev/genesis/rate-meter';
import { germanIban } from '../../../dev/testing/iban';
import { frontDoorArrivals } from '../../support/front-door';
import { waitUntil } from '../../support/processes';
import { Operator } from '../operator';
import { chargebackReasonCodes } from '../sales';
import type { Check, ScenarioResult } from '../results';
import { E2E_EMP_RATE_LIMIT, E2E_STALE_CLAIM_AFTER_MS, type E2EStack } from '../stack';

interface SimTransaction {
  transactionId: string;
  uniqueId: string;
  status: string;
}

export interface BillingScenarioOptions {
  name: string;
  description: string;
  debtors: number;
  /** First account number of the file's IBANs: distinct per scenario, so blacklists do not collide. */
  firstAccount: number;
  /** Simulator faults during the run (dev/genesis/faults.ts), e.g. 10 % of sales never answered. */
  faults?: Record<string, unknown>;
  /**
   * Kills node 2 (SIGKILL) once EMP has this many of the run's sales, and starts it again. The
   * claims it held go stale; the reconciliation pass that QStash's schedule would start (every
   * 5 minutes in production) is asked for on demand once they have.
   */
  killNodeAfterSales?: number;
  timeoutMs: number;
}

const CHARGEBACK_AFTER_MS = 1_500;

function debtorFile(count: number, firstAccount: number): Buffer {
  const lines = ['name,iban,amount'];
  for (let i = 0; i < count; i++) lines.push(`Debtor ${firstAccount + i},${germanIban(firstAccount + i)},${(i % 90) + 10}.00`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Sales the simulator has taken since its reset. */
const salesSoFar = async (stack: E2EStack) => (await stack.sim<{ requests: Record<string, number> }>('GET', '/rate')).requests.process ?? 0;

async function killNodeMidRun(stack: E2EStack, operator: Operator, afterSales: number, timeoutMs: number): Promise<number> {
  await waitUntil(async () => (await salesSoFar(stack)) >= afterSales, timeoutMs, `${afterSales} sales sent`, 20);
  await stack.killNode(1);
  const killedAtSales = await salesSoFar(stack);
  await stack.startNode(1);
  await new Promise((resolve) => setTimeout(resolve, E2E_STALE_CLAIM_AFTER_MS + 1_000));
  await operator.reconcile();
  return killedAtSales;
}

export async function billingScenario(stack: E2EStack, options: BillingScenarioOptions): Promise<ScenarioResult> {
  const started = Date.now();
  await stack.sim('POST', '/reset');
  await stack.sim('PUT', '/outcomes', {
    random: { declineRate: 0.1, chargebackRate: 0.1, chargebackReasonCodes: ['MD06', 'AM04'], chargebackAfterMs: CHARGEBACK_AFTER_MS },
  });
  if (options.faults) await stack.sim('PUT', '/faults', options.faults);

  const operator = await Operator.logIn(stack);
  const uploadId = await operator.upload(`e2e-${options.firstAccount}.csv`, debtorFile(options.debtors, options.firstAccount));
  const upload = await operator.uploadSettled(uploadId, options.timeoutMs);
  const runId = await operator.startRun(uploadId);
  const killedAtSales = options.killNodeAfterSales === undefined ? undefined : await killNodeMidRun(stack, operator, options.killNodeAfterSales, options.timeoutMs);
  const run = await operator.runSettled(runId, options.timeoutMs);
  if (options.faults) await stack.sim('PUT', '/faults', {});

  // The run is done; the chargebacks follow, and their notifications must be acknowledged and applied.
  const attemptStatuses = async () =>
    new Map(
      (
        await stack.database.pool.query<{ transaction_id: string; status: string }>(
          'select transaction_id, status from billing_attempts where billing_run_id = $1',
          [runId],
        )
      ).rows.map((row) => [row.transaction_id, row.status]),
    );
  let transactions: SimTransaction[] = [];
  let statuses = new Map<string, string>();
  const agree = async () => {
    transactions = await stack.sim<SimTransaction[]>('GET', '/transactions');
    statuses = await attemptStatuses();
    return transactions.every((transaction) => statuses.get(transaction.transactionId) === transaction.status);
  };
  await new Promise((resolve) => setTimeout(resolve, CHARGEBACK_AFTER_MS + 500));
  await waitUntil(agree, options.timeoutMs, 'every attempt in the status the simulator decided', 500).catch(() => undefined);

  // The reason codes come from EMP's Chargeback API, as the backend takes them (a notification's is a claim).
  const chargedBack = transactions.filter((transaction) => transaction.status === 'chargebacked');
  const reasonCodes = await chargebackReasonCodes(stack, chargedBack.map((transaction) => transaction.uniqueId));
  const ibanOf = new Map(
    (
      await stack.database.pool.query<{ transaction_id: string; iban: string }>(
        'select a.transaction_id, d.iban from billing_attempts a join debtors d on d.id = a.debtor_id where a.billing_run_id = $1',
        [runId],
      )
    ).rows.map((row) => [row.transaction_id, row.iban]),
  );
  const blacklisted = new Set(
    (await stack.database.pool.query<{ iban: string }>('select iban from blacklist where removed_at is null and iban = any($1)', [[...ibanOf.values()]])).rows.map((row) => row.iban),
  );
  const blacklists = (transaction: SimTransaction) => (reasonCodes.get(transaction.uniqueId) ?? []).some((code) => reasonCodePolicy(code).action === 'blacklist');
  const shouldBlacklist = chargedBack.filter(blacklists);
  const blacklistWrong = transactions.filter((transaction) => blacklisted.has(ibanOf.get(transaction.transactionId)!) !== (transaction.status === 'chargebacked' && blacklists(transaction)));
  const { doubleCharges, salesPerTransactionId } = await stack.sim<{ doubleCharges: string[]; salesPerTransactionId: Record<string, number> }>('GET', '/sales');
  const attemptsPerDebtor = (
    await stack.database.pool.query<{ n: number }>(
      'select count(*)::int as n from (select debtor_id from billing_attempts where billing_run_id = $1 group by debtor_id having count(*) > 1) twice',
      [runId],
    )
  ).rows[0]!.n;
  const disagreeing = transactions.filter((transaction) => statuses.get(transaction.transactionId) !== transaction.status);
  const unknownOnce = (
    await stack.database.pool.query<{ n: number }>(`select count(*)::int as n from billing_attempts where billing_run_id = $1 and history @> '[{"to": "unknown"}]'`, [runId])
  ).rows[0]!.n;
  const salesSent = Object.values(salesPerTransactionId).reduce((sum, count) => sum + count, 0);
  // HAProxy logs a request once it ends: a hung sale's line comes when the simulator lets go of it.
  let salesAtFrontDoor: number[] = [];
  const frontDoorLoggedAll = async () => (salesAtFrontDoor = frontDoorArrivals(stack.frontDoorLog, '/process/', started)).length >= salesSent;
  await waitUntil(frontDoorLoggedAll, 15_000, 'the front door logging every sale', 250).catch(() => undefined);
  const busiestSecond = Math.max(0, ...countsPerWindow(salesAtFrontDoor));
  const simStatusCounts: Record<string, number> = {};
  for (const transaction of transactions) simStatusCounts[transaction.status] = (simStatusCounts[transaction.status] ?? 0) + 1;

  const checks: Check[] = [
    { name: 'the file was processed whole', passed: upload.status === 'completed' && upload.rows.accepted === options.debtors, detail: `${upload.status}, ${upload.rows.accepted} of ${options.debtors} rows accepted` },
    { name: 'the run completed with one attempt per debtor', passed: run.status === 'completed' && statuses.size === options.debtors && attemptsPerDebtor === 0, detail: `run ${run.status}, ${statuses.size} attempts, ${attemptsPerDebtor} debtors with more than one` },
    { name: 'every debtor sent to EMP exactly once (no double charge)', passed: doubleCharges.length === 0 && Object.keys(salesPerTransactionId).length === options.debtors, detail: `${Object.keys(salesPerTransactionId).length} sales, double charges: ${doubleCharges.length}` },
    {
      name: `never more than EMP_RATE_LIMIT (${E2E_EMP_RATE_LIMIT}) sales in any one-second window at EMP's front door`,
      passed: busiestSecond <= E2E_EMP_RATE_LIMIT && salesAtFrontDoor.length === salesSent,
      detail: `${salesAtFrontDoor.length} sales counted, at most ${busiestSecond} in one second`,
    },
    { name: 'every attempt in the status the simulator decided', passed: disagreeing.length === 0 && transactions.length === options.debtors, detail: `${transactions.length - disagreeing.length} of ${transactions.length} agree${disagreeing[0] ? `; e.g. ${disagreeing[0].transactionId}: simulator ${disagreeing[0].status}, Tether ${statuses.get(disagreeing[0].transactionId)}` : ''}` },
    { name: 'blacklisted: exactly the IBANs whose EMP chargeback record has a blacklisting reason code', passed: blacklistWrong.length === 0 && chargedBack.length > 0, detail: `${chargedBack.length} chargebacks at EMP, ${shouldBlacklist.length} with a blacklisting code, ${blacklisted.size} IBANs blacklisted, ${blacklistWrong.length} wrong` },
  ];
  if (options.faults) checks.push({ name: 'the faults struck (some sales went unknown and were reconciled)', passed: unknownOnce > 0, detail: `${unknownOnce} attempts went through unknown` });
  if (killedAtSales !== undefined) {
    checks.push({
      name: 'node 2 was killed mid-run, and the claims it left were reconciled',
      passed: killedAtSales < options.debtors && unknownOnce > 0,
      detail: `killed with ${killedAtSales} of ${options.debtors} sales sent; ${unknownOnce} claims went stale and were reconciled`,
    });
  }
  return {
    name: options.name,
    description: options.description,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    load: `${options.debtors} debtors, 10 % declined, 10 % of the approved charged back (MD06 or AM04)${options.faults ? `, faults ${JSON.stringify(options.faults)}` : ''}${killedAtSales === undefined ? '' : ', node 2 killed mid-run'}`,
    events: { sent: options.debtors, unique: options.debtors, applied: transactions.length - disagreeing.length, lost: disagreeing.length, duplicated: doubleCharges.length },
    checks,
    figures: {
      ...Object.fromEntries(Object.entries(simStatusCounts).map(([status, n]) => [`simulator: ${status}`, n])),
      'attempts that went through unknown': unknownOnce,
      ...(killedAtSales === undefined ? {} : { 'sales sent when node 2 was killed': killedAtSales }),
    },
  };
}
