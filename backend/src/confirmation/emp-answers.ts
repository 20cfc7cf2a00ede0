/**
 * Asks EMP about notifications' signed ids, at the reconciliation rate (RECONCILIATION_RATE_LIMIT,
 * shared with reconciliation across all nodes). One reconcile a notification cannot follow a
 * storm, so when several wait, by-date pages do the work: a page holds up to 100 transactions,
 * and ids whose sales Tether sent within seconds of each other are looked for among the
 * transactions of those seconds (EMP notifies a run's sales in bursts, as they were sent).
 * Whatever the pages do not find is asked about singly, and a page run stops as soon as the
 * single requests would be fewer than the pages left. The by-date filter (creation or last
 * change, EMP does not say) only changes how much the pages find, never what is concluded.
 */
import { GENESIS_ERROR_CODES } from '@tether/shared/genesis-codes';
import { isDebitTransactionType } from '@tether/shared/genesis-meaning';
import type { PaymentResponse } from '@tether/shared/genesis-xml';
import type { BillingContext } from '../billing/context';
import { GenesisRequestError } from '../emp/errors';
import { describeError } from '../events/describe-error';
import type { EventMetrics } from '../events/metrics';
import type { SignedAnswer } from './verdict';

export interface SignedId {
  kind: 'api' | 'wpf';
  id: string;
  /** When Tether sent the sale that already holds this unique_id: where a by-date page finds it. */
  sentAt?: Date;
}

/** EMP could not be asked (outage, timeout, refusal): the notification waits, nothing is concluded. */
export interface Unavailable {
  found: 'unavailable';
  error: string;
}

/** Not asked this round: the single requests it had time for (within the lease) were spent. */
export interface Later {
  found: 'later';
}

export type EmpAnswer = SignedAnswer | Unavailable | Later;

/**
 * Answers are keyed by kind and id: an API and a WPF notification may be signed over the same id
 * (one forged as the other), and neither may be judged by the other's answer.
 */
export const answerKey = (signed: Pick<SignedId, 'kind' | 'id'>) => `${signed.kind}:${signed.id}`;

/** Single requests a round may make: what the reconcile limit allows in half the confirmer's 60 s lease. */
const SINGLES_WITHIN_MS = 30_000;

export type AnswerContext = Pick<BillingContext, 'genesis' | 'reconcileLimiter' | 'log'> & { metrics: EventMetrics };

/** A window with fewer ids than this is asked about singly: one request either way. */
const PAGE_FROM = 2;
/**
 * The by-date window around a group's send times: EMP creates the transaction when the request
 * arrives, a moment after Tether's sent_at; the margins cover clock differences and slow answers
 * (a sale EMP created later than that is found by a single reconcile instead).
 */
const WINDOW_BEFORE_MS = 2_000;
const WINDOW_AFTER_MS = 5_000;
/** A pause in sending longer than this starts another window (a run's sales go out back to back). */
const WINDOW_GAP_MS = 10_000;

const genesisTime = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');

async function reconcileOne(context: AnswerContext, uniqueId: string): Promise<PaymentResponse | 'not_found' | 'other_terminal'> {
  await context.reconcileLimiter.acquire();
  context.metrics.confirmationRequests.inc({ request: 'reconcile' });
  try {
    return (await context.genesis.reconcileByUniqueId(uniqueId)) ?? 'not_found';
  } catch (error) {
    if (error instanceof GenesisRequestError && error.details.code === GENESIS_ERROR_CODES.invalidTerminal) return 'other_terminal';
    throw error;
  }
}

/** The signed transaction, and the debit it refers to when it is a reference (a chargeback record, a refund). */
async function answerSingly(context: AnswerContext, signed: SignedId, known?: PaymentResponse): Promise<SignedAnswer> {
  if (signed.kind === 'wpf') {
    await context.reconcileLimiter.acquire();
    context.metrics.confirmationRequests.inc({ request: 'wpf_reconcile' });
    const form = await context.genesis.wpfReconcile(signed.id);
    if (!form) return { found: false, reason: 'unknown_transaction' };
    const payment = form.payments.find((transaction) => isDebitTransactionType(transaction.transactionType)) ?? form.payments[0];
    if (!payment) return { found: false, reason: 'unknown_transaction' };
    return { found: true, transaction: payment, wpfTransactionId: form.transactionId };
  }
  const transaction = known ?? (await reconcileOne(context, signed.id));
  if (transaction === 'not_found' || transaction === 'other_terminal') {
    return { found: false, reason: transaction === 'not_found' ? 'unknown_transaction' : 'other_terminal' };
  }
  const reference = transaction.referenceTransactionUniqueId;
  if (isDebitTransactionType(transaction.transactionType) || !reference) return { found: true, transaction };
  const original = await reconcileOne(context, reference);
  return typeof original === 'string' ? { found: true, transaction } : { found: true, transaction, original };
}

/** Groups the send times into windows without a pause longer than WINDOW_GAP_MS, each with its ids. */
function windows(ids: readonly SignedId[]): Array<{ from: Date; to: Date; ids: Set<string> }> {
  const sorted = ids.filter((signed) => signed.sentAt).sort((a, b) => a.sentAt!.getTime() - b.sentAt!.getTime());
  const groups: Array<{ from: Date; to: Date; ids: Set<string> }> = [];
  for (const signed of sorted) {
    const last = groups.at(-1);
    if (last && signed.sentAt!.getTime() - last.to.getTime() <= WINDOW_GAP_MS) {
      last.to = signed.sentAt!;
      last.ids.add(signed.id);
    } else {
      groups.push({ from: signed.sentAt!, to: signed.sentAt!, ids: new Set([signed.id]) });
    }
  }
  return groups;
}

/** Reads by-date pages of each window while they are cheaper than asking for what is left singly. */
async function answerByPages(context: AnswerContext, ids: readonly SignedId[], found: Map<string, PaymentResponse>): Promise<void> {
  for (const window of windows(ids)) {
    if (window.ids.size < PAGE_FROM) continue;
    const range = {
      startDate: genesisTime(new Date(window.from.getTime() - WINDOW_BEFORE_MS)),
      endDate: genesisTime(new Date(window.to.getTime() + WINDOW_AFTER_MS)),
    };
    const remaining = window.ids;
    for (let page = 1, pagesCount = 1; remaining.size > 0 && page <= pagesCount; page++) {
      if (page > 1 && pagesCount - page + 1 > remaining.size) break;
      await context.reconcileLimiter.acquire();
      context.metrics.confirmationRequests.inc({ request: 'reconcile_by_date' });
      const content = await context.genesis.reconcileByDatePage(range, page);
      pagesCount = content.pagination.pagesCount;
      for (const payment of content.items) {
        if (payment.uniqueId && remaining.delete(payment.uniqueId)) found.set(payment.uniqueId, payment);
      }
    }
  }
}

const CONCURRENCY = 8;

/**
 * EMP's answer for every signed id, by answerKey. Stops asking at the first failure: EMP is down or refusing,
 * and every id not answered yet is reported unavailable, to wait and be asked again later.
 */
export async function askEmp(context: AnswerContext, ids: readonly SignedId[]): Promise<Map<string, EmpAnswer>> {
  const answers = new Map<string, EmpAnswer>();
  const fromPages = new Map<string, PaymentResponse>();
  let failure: string | undefined;
  if (ids.filter((signed) => signed.kind === 'api' && signed.sentAt).length >= PAGE_FROM) {
    try {
      await answerByPages(
        context,
        ids.filter((signed) => signed.kind === 'api'),
        fromPages,
      );
    } catch (error) {
      failure = describeError(error);
    }
  }
  let next = 0;
  let singles = Math.max(CONCURRENCY, Math.floor(SINGLES_WITHIN_MS / context.reconcileLimiter.intervalMs));
  const worker = async () => {
    while (!failure && next < ids.length) {
      const signed = ids[next++]!;
      const fromPage = signed.kind === 'api' ? fromPages.get(signed.id) : undefined;
      if (!fromPage && singles-- <= 0) {
        answers.set(answerKey(signed), { found: 'later' });
        continue;
      }
      try {
        answers.set(answerKey(signed), await answerSingly(context, signed, fromPage));
      } catch (error) {
        failure ??= describeError(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  if (failure) {
    context.log.warn({ error: failure, unanswered: ids.length - answers.size }, 'EMP could not confirm notifications; they wait and are asked about again');
    for (const signed of ids) if (!answers.has(answerKey(signed))) answers.set(answerKey(signed), { found: 'unavailable', error: failure });
  }
  return answers;
}
