/**
 * The life of a simulated sdd_sale after the gateway accepted it: its status notifications,
 * a later status change, a chargeback. Both the gateway (outcomes decided at sale time) and the
 * admin API (changes triggered by a test) go through here.
 */
import { maskPersonalData } from '@tether/shared/mask';
import type { SddRefundRequest, SddSaleRequest } from '@tether/shared/genesis-xml';
import type { Ledger, SimChargeback, SimDebitType, SimRefund, SimTransaction } from './ledger';
import { chargebackNotification, refundNotification, statusNotification } from './notification-fields';
import type { NotificationSettings, Notifier, OutgoingNotification } from './notifier';
import { newArn, newUniqueId } from './ids';
import { DEFAULT_CODES, type SaleOutcome } from './outcomes';
import type { Scheduler } from './scheduler';
import type { SimulatorLog, SimulatorTerminal } from './state';

/** A request to the admin API or control handle that does not fit the simulator's state. */
export class SimulatorUsageError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
  }
}

export interface LifecycleDependencies {
  ledger: Ledger;
  notifier: Notifier;
  scheduler: Scheduler;
  terminals: readonly SimulatorTerminal[];
  now(): Date;
  log: SimulatorLog;
  /** From an sdd_refund's pending_async answer to its approval (and notification). */
  refundSettlementMs: number;
}

const codeFor = (status: string, code: string | undefined) =>
  status === 'declined' || status === 'error' ? (code ?? DEFAULT_CODES[status]) : undefined;

export class Lifecycle {
  private saleSequence = 0;
  private chargebackSequence = 0;

  constructor(private readonly deps: LifecycleDependencies) {}

  /**
   * `debit`: the type, and for an sdd_recurring_sale the unique_id of its first debit (`request`
   * is then the first debit's account and address with the recurring one's ids and amount).
   */
  createSale(
    terminal: SimulatorTerminal,
    request: SddSaleRequest,
    outcome: SaleOutcome,
    origin: string,
    debit: { transactionType: SimDebitType; referenceId?: string } = { transactionType: 'sdd_sale' },
  ): SimTransaction {
    const sequence = ++this.saleSequence;
    const uniqueId = newUniqueId();
    const now = this.deps.now();
    const transaction: SimTransaction = {
      uniqueId,
      transactionId: request.transactionId,
      ...debit,
      terminalToken: terminal.token,
      request,
      mode: terminal.mode ?? 'test',
      notificationUrl: request.notificationUrl ?? terminal.notificationUrl,
      createdAt: now,
      updatedAt: now,
      sequence,
      status: outcome.status,
      code: codeFor(outcome.status, outcome.code),
      redirectUrl: outcome.status === 'pending_async' ? `${origin}/redirect/to_acquirer/${uniqueId}` : undefined,
    };
    this.deps.ledger.addSale(transaction);
    this.log('sale', transaction);
    this.notifyStatus(transaction);

    const { later, chargeback } = outcome;
    if (later) this.deps.scheduler.after(later.afterMs, () => this.changeStatus(uniqueId, later));
    if (chargeback) {
      this.deps.scheduler.after(chargeback.afterMs, () => {
        // A sale rejected in the meantime cannot be charged back.
        if (transaction.status === 'approved') this.chargeback(uniqueId, { reasonCode: chargeback.reasonCode });
      });
    }
    return transaction;
  }

  changeStatus(uniqueId: string, change: { status: string; code?: string }): SimTransaction {
    const transaction = this.transaction(uniqueId);
    transaction.status = change.status;
    transaction.code = codeFor(change.status, change.code);
    transaction.updatedAt = this.deps.now();
    this.log('status_change', transaction);
    this.notifyStatus(transaction);
    return transaction;
  }

  chargeback(uniqueId: string, request: { reasonCode: string; amount?: number }): SimChargeback {
    const original = this.transaction(uniqueId);
    if (original.status !== 'approved') {
      throw new SimulatorUsageError(`only an approved sale can be charged back; ${uniqueId} is ${original.status}`, 409);
    }
    const sequence = ++this.chargebackSequence;
    const now = this.deps.now();
    const chargeback: SimChargeback = {
      uniqueId: newUniqueId(),
      arn: newArn(),
      originalUniqueId: uniqueId,
      terminalToken: original.terminalToken,
      reasonCode: request.reasonCode,
      amount: request.amount ?? original.request.amount,
      currency: original.request.currency,
      createdAt: now,
      sequence,
    };
    this.deps.ledger.addChargeback(chargeback);
    original.status = 'chargebacked';
    original.code = undefined;
    original.updatedAt = now;
    this.log('chargeback', original, { reasonCode: chargeback.reasonCode });
    this.notify(original, (url, terminal, settings) => chargebackNotification(url, original, chargeback, terminal, settings));
    return chargeback;
  }

  /**
   * An sdd_refund the gateway accepted: pending_async, as the reference documents the answer
   * (fixtures/ref-sdd-refund-response-pending-async.xml), approved after the settlement delay.
   */
  createRefund(terminal: SimulatorTerminal, request: SddRefundRequest): SimRefund {
    const now = this.deps.now();
    const refund: SimRefund = {
      uniqueId: newUniqueId(),
      transactionId: request.transactionId,
      terminalToken: terminal.token,
      request,
      mode: terminal.mode ?? 'test',
      notificationUrl: terminal.notificationUrl,
      createdAt: now,
      updatedAt: now,
      status: 'pending_async',
      code: undefined,
    };
    this.deps.ledger.addRefund(refund);
    this.deps.log('refund', { transactionId: refund.transactionId, uniqueId: refund.uniqueId, referenceId: request.referenceId, amount: request.amount });
    this.deps.scheduler.after(this.deps.refundSettlementMs, () => {
      if (refund.status === 'pending_async') this.changeRefundStatus(refund.uniqueId, { status: 'approved' });
    });
    return refund;
  }

  /**
   * Settles a refund; an approved one that completes the sale's amount makes the sale `refunded`
   * (a partly refunded sale stays `approved`: which state Genesis reports then is not documented).
   */
  changeRefundStatus(uniqueId: string, change: { status: string; code?: string }): SimRefund {
    const refund = this.deps.ledger.getRefund(uniqueId);
    if (!refund) throw new SimulatorUsageError(`no refund ${uniqueId}`, 404);
    refund.status = change.status;
    refund.code = codeFor(change.status, change.code);
    refund.updatedAt = this.deps.now();
    const original = this.deps.ledger.get(refund.request.referenceId);
    if (original && change.status === 'approved' && this.refundedAmount(original.uniqueId) >= original.request.amount) {
      original.status = 'refunded';
      original.updatedAt = refund.updatedAt;
    }
    this.deps.log('refund_status', { uniqueId, status: refund.status, code: refund.code });
    const url = refund.notificationUrl;
    const terminal = this.deps.terminals.find((candidate) => candidate.token === refund.terminalToken);
    if (url && terminal) {
      const settings = this.deps.notifier.settingsSnapshot();
      const notification = refundNotification(url, refund, terminal, settings);
      this.deps.scheduler.after(settings.delayMs, async () => this.deps.notifier.send(await notification));
    }
    return refund;
  }

  /** What the sale's refunds take from it: approved ones and those still pending. */
  refundedAmount(originalUniqueId: string, including: readonly string[] = ['approved']): number {
    return this.deps.ledger
      .refundsOf(originalUniqueId)
      .filter((refund) => including.includes(refund.status))
      .reduce((sum, refund) => sum + refund.request.amount, 0);
  }

  /** Sends the current status again: a duplicate as far as the merchant is concerned. */
  notifyStatus(transaction: SimTransaction): void {
    this.notify(transaction, (url, terminal, settings) => statusNotification(url, transaction, terminal, settings));
  }

  transaction(uniqueId: string): SimTransaction {
    const transaction = this.deps.ledger.get(uniqueId);
    if (!transaction) throw new SimulatorUsageError(`no transaction ${uniqueId}`, 404);
    return transaction;
  }

  /** Builds the notification now (a snapshot of the status) and sends it after the configured delay. */
  private notify(
    transaction: SimTransaction,
    build: (url: string, terminal: SimulatorTerminal, settings: NotificationSettings) => Promise<OutgoingNotification>,
  ): void {
    const url = transaction.notificationUrl;
    const terminal = this.deps.terminals.find((candidate) => candidate.token === transaction.terminalToken);
    if (!url || !terminal) return;
    const settings = this.deps.notifier.settingsSnapshot();
    const notification = build(url, terminal, settings);
    this.deps.scheduler.after(settings.delayMs, async () => this.deps.notifier.send(await notification));
  }

  private log(event: string, transaction: SimTransaction, extra: Record<string, unknown> = {}): void {
    this.deps.log(event, {
      ...(maskPersonalData({ iban: transaction.request.iban }) as Record<string, unknown>),
      transactionId: transaction.transactionId,
      uniqueId: transaction.uniqueId,
      status: transaction.status,
      code: transaction.code,
      amount: transaction.request.amount,
      ...extra,
    });
  }
}
