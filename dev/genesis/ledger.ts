/**
 * The simulator's memory of transactions and chargebacks. The simulator stands in for an
 * external system, so keeping this in memory per instance is fine; nothing here survives a restart.
 */
import type { SddRefundRequest, SddSaleRequest } from '@tether/shared/genesis-xml';

/** The debits the simulator processes: one-off, and the first and later debits of a recurring mandate. */
export type SimDebitType = 'sdd_sale' | 'sdd_init_recurring_sale' | 'sdd_recurring_sale';

export interface SimTransaction {
  readonly uniqueId: string;
  readonly transactionId: string;
  readonly transactionType: SimDebitType;
  /** An sdd_recurring_sale's sdd_init_recurring_sale. */
  readonly referenceId?: string;
  readonly terminalToken: string;
  readonly request: SddSaleRequest;
  readonly mode: 'test' | 'live';
  /** Where this transaction's notifications go, if anywhere. */
  readonly notificationUrl: string | undefined;
  readonly createdAt: Date;
  readonly sequence: number;
  status: string;
  code: string | undefined;
  redirectUrl: string | undefined;
  updatedAt: Date;
}

/** An sdd_refund: a transaction of its own that references the refunded sale. */
export interface SimRefund {
  readonly uniqueId: string;
  readonly transactionId: string;
  readonly terminalToken: string;
  readonly request: SddRefundRequest;
  readonly mode: 'test' | 'live';
  readonly notificationUrl: string | undefined;
  readonly createdAt: Date;
  /** pending_async until it settles: approved (or declined, error by the admin API). */
  status: string;
  code: string | undefined;
  updatedAt: Date;
}

export interface SimChargeback {
  /** The chargeback's own id, used by the `transaction_type=chargeback` notification shape. */
  readonly uniqueId: string;
  readonly arn: string;
  readonly originalUniqueId: string;
  readonly terminalToken: string;
  readonly reasonCode: string;
  readonly amount: number;
  readonly currency: string;
  readonly createdAt: Date;
  readonly sequence: number;
}

export type DateField = 'createdAt' | 'updatedAt';

const byTime = (field: DateField) => (a: SimTransaction, b: SimTransaction) =>
  a[field].getTime() - b[field].getTime() || a.sequence - b.sequence;

export class Ledger {
  private readonly transactions = new Map<string, SimTransaction>();
  private readonly salesByTransactionId = new Map<string, SimTransaction[]>();
  private chargebackList: SimChargeback[] = [];
  private readonly refundsByUniqueId = new Map<string, SimRefund>();

  addSale(transaction: SimTransaction): void {
    this.transactions.set(transaction.uniqueId, transaction);
    const sales = this.salesByTransactionId.get(transaction.transactionId) ?? [];
    sales.push(transaction);
    this.salesByTransactionId.set(transaction.transactionId, sales);
  }

  get(uniqueId: string): SimTransaction | undefined {
    return this.transactions.get(uniqueId);
  }

  /** A terminal sees only its own transactions. */
  find(terminalToken: string, query: { uniqueId?: string; transactionId?: string }): SimTransaction | undefined {
    if (query.uniqueId) {
      const transaction = this.transactions.get(query.uniqueId);
      return transaction?.terminalToken === terminalToken ? transaction : undefined;
    }
    const sales = (query.transactionId && this.salesByTransactionId.get(query.transactionId)) || [];
    return sales.filter((sale) => sale.terminalToken === terminalToken).at(-1);
  }

  list(filter: { terminalToken?: string; transactionId?: string } = {}): SimTransaction[] {
    const candidates = filter.transactionId
      ? (this.salesByTransactionId.get(filter.transactionId) ?? [])
      : [...this.transactions.values()];
    return candidates.filter((sale) => !filter.terminalToken || sale.terminalToken === filter.terminalToken);
  }

  /** Inclusive on both ends, oldest first. */
  inRange(terminalToken: string, from: Date, to: Date, field: DateField): SimTransaction[] {
    return this.list({ terminalToken })
      .filter((sale) => sale[field] >= from && sale[field] <= to)
      .sort(byTime(field));
  }

  /** Sales created per transaction_id: more than one is a double charge. */
  salesPerTransactionId(): Record<string, number> {
    return Object.fromEntries([...this.salesByTransactionId].map(([transactionId, sales]) => [transactionId, sales.length]));
  }

  addRefund(refund: SimRefund): void {
    this.refundsByUniqueId.set(refund.uniqueId, refund);
  }

  /** A terminal sees only its own refunds; by transaction_id, the latest. */
  findRefund(terminalToken: string, query: { uniqueId?: string; transactionId?: string }): SimRefund | undefined {
    const mine = [...this.refundsByUniqueId.values()].filter((refund) => refund.terminalToken === terminalToken);
    if (query.uniqueId) return mine.find((refund) => refund.uniqueId === query.uniqueId);
    return query.transactionId ? mine.filter((refund) => refund.transactionId === query.transactionId).at(-1) : undefined;
  }

  getRefund(uniqueId: string): SimRefund | undefined {
    return this.refundsByUniqueId.get(uniqueId);
  }

  /** The refunds of one sale, oldest first. */
  refundsOf(originalUniqueId: string): SimRefund[] {
    return [...this.refundsByUniqueId.values()].filter((refund) => refund.request.referenceId === originalUniqueId);
  }

  /** Inclusive on both ends, oldest first. */
  refundsInRange(terminalToken: string, from: Date, to: Date, field: DateField): SimRefund[] {
    return [...this.refundsByUniqueId.values()]
      .filter((refund) => refund.terminalToken === terminalToken && refund[field] >= from && refund[field] <= to)
      .sort((a, b) => a[field].getTime() - b[field].getTime());
  }

  addChargeback(chargeback: SimChargeback): void {
    this.chargebackList.push(chargeback);
  }

  chargebacks(filter: { terminalTokens?: readonly string[]; originalUniqueId?: string; arn?: string } = {}): SimChargeback[] {
    return this.chargebackList.filter(
      (chargeback) =>
        (!filter.terminalTokens || filter.terminalTokens.includes(chargeback.terminalToken)) &&
        (!filter.originalUniqueId || chargeback.originalUniqueId === filter.originalUniqueId) &&
        (!filter.arn || chargeback.arn === filter.arn),
    );
  }

  clear(): void {
    this.transactions.clear();
    this.salesByTransactionId.clear();
    this.chargebackList = [];
    this.refundsByUniqueId.clear();
  }
}
