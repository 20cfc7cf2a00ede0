/**
 * The test handle of a running simulator. The admin API (/__sim) exposes the same operations
 * over HTTP for tools that run out of process.
 */
import type { ChargebackRecord, PaymentResponse } from '@tether/shared/genesis-xml';
import type { FaultSettings, GatewayEndpoint, InjectedFault } from './faults';
import type { SimTransaction } from './ledger';
import type { NotificationDelivery, NotificationSettings, NotificationSettingsPatch, ReleaseOrder } from './notifier';
import type { OutcomePolicy } from './outcomes';
import type { SimulatorState } from './state';
import { chargebackRecordOf, paymentResponseOf, refundResponseOf } from './views';

export type TransactionView = PaymentResponse & { terminalToken: string; createdAt: string; updatedAt: string };

export interface GenesisSimulatorControl {
  transactions(filter?: { transactionId?: string; terminalToken?: string }): TransactionView[];
  transaction(uniqueId: string): TransactionView | undefined;
  /** A later status change of a sale (e.g. approved → error), notified like the gateway would. */
  changeStatus(uniqueId: string, change: { status: string; code?: string }): TransactionView;
  /** Charges an approved sale back now, with a SEPA reason code, and notifies it. */
  chargeback(uniqueId: string, chargeback: { reasonCode: string; amount?: number }): ChargebackRecord;
  /** The sdd_refunds of a sale, oldest first, as reconcile reports them. */
  refundsOf(originalUniqueId: string): PaymentResponse[];
  /** Settles a pending refund otherwise (declined, error) or at once (approved), and notifies it. */
  changeRefundStatus(uniqueId: string, change: { status: string; code?: string }): PaymentResponse;
  /** Sends the sale's current status again: a duplicate notification. */
  renotify(uniqueId: string): void;
  /** Sales created per transaction_id; more than one means a double charge. */
  salesPerTransactionId(): Record<string, number>;
  doubleCharges(): string[];
  /** The most requests that arrived within any one second, on one endpoint or on all. */
  maxRequestsPerSecond(endpoint?: GatewayEndpoint): number;
  requestCount(endpoint?: GatewayEndpoint): number;
  /** When each request to the endpoint arrived, in ms after the first. */
  arrivals(endpoint: GatewayEndpoint): number[];
  /** How late the simulator's event loop ran (arrivals are timed on it), in ms. */
  eventLoopDelay(): { p99: number; max: number };
  faults(): { settings: FaultSettings; injected: InjectedFault[] };
  configureFaults(settings: FaultSettings): void;
  injectFault(fault: InjectedFault): void;
  outcomes(): OutcomePolicy;
  configureOutcomes(policy: OutcomePolicy): void;
  notificationSettings(): NotificationSettings;
  configureNotifications(settings: NotificationSettingsPatch): void;
  /** Sends held notifications, in the order they were queued or reversed (out of order). */
  releaseNotifications(order?: ReleaseOrder): Promise<void>;
  notifications(filter?: { uniqueId?: string }): NotificationDelivery[];
  /** Moves the simulator's clock to `now` (it keeps running from there); undefined goes back to real time. */
  setClock(now: Date | undefined): void;
  /** Forgets transactions, chargebacks, notifications and counters, cancels pending work and restores the start options. */
  reset(): void;
}

function view(transaction: SimTransaction): TransactionView {
  return {
    ...paymentResponseOf(transaction, 'reconcile'),
    terminalToken: transaction.terminalToken,
    createdAt: transaction.createdAt.toISOString(),
    updatedAt: transaction.updatedAt.toISOString(),
  };
}

export function createControl(state: SimulatorState): GenesisSimulatorControl {
  const { ledger, lifecycle, notifier, faults, rateMeter } = state;
  return {
    transactions: (filter) => ledger.list(filter).map(view),
    transaction: (uniqueId) => {
      const transaction = ledger.get(uniqueId);
      return transaction && view(transaction);
    },
    changeStatus: (uniqueId, change) => view(lifecycle.changeStatus(uniqueId, change)),
    chargeback: (uniqueId, request) => chargebackRecordOf(lifecycle.chargeback(uniqueId, request), lifecycle.transaction(uniqueId)),
    refundsOf: (originalUniqueId) => ledger.refundsOf(originalUniqueId).map((refund) => refundResponseOf(refund, 'reconcile')),
    changeRefundStatus: (uniqueId, change) => refundResponseOf(lifecycle.changeRefundStatus(uniqueId, change), 'reconcile'),
    renotify: (uniqueId) => lifecycle.notifyStatus(lifecycle.transaction(uniqueId)),
    salesPerTransactionId: () => ledger.salesPerTransactionId(),
    doubleCharges: () =>
      Object.entries(ledger.salesPerTransactionId())
        .filter(([, sales]) => sales > 1)
        .map(([transactionId]) => transactionId),
    maxRequestsPerSecond: (endpoint) => rateMeter.maxInWindow(endpoint),
    requestCount: (endpoint) => rateMeter.total(endpoint),
    arrivals: (endpoint) => rateMeter.arrivalsSinceFirst(endpoint),
    eventLoopDelay: () => rateMeter.eventLoopDelay(),
    faults: () => faults.current(),
    configureFaults: (settings) => faults.configure(settings),
    injectFault: (fault) => faults.inject(fault),
    outcomes: () => structuredClone(state.outcomes),
    configureOutcomes: (policy) => {
      state.outcomes = structuredClone(policy);
    },
    notificationSettings: () => notifier.settingsSnapshot(),
    configureNotifications: (settings) => notifier.configure(settings),
    releaseNotifications: (order = 'queued') => notifier.release(order),
    notifications: (filter) => notifier.deliveries().filter((delivery) => !filter?.uniqueId || delivery.id === filter.uniqueId),
    setClock: (now) => {
      state.clock.offsetMs = now ? now.getTime() - Date.now() : 0;
    },
    reset: () => {
      state.scheduler.reset();
      ledger.clear();
      notifier.clear();
      rateMeter.clear();
      faults.clear(state.options.faults);
      state.outcomes = state.options.outcomes ?? {};
      state.clock.offsetMs = 0;
    },
  };
}
