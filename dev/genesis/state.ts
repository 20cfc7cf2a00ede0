/** The simulator's options and the parts one running instance is made of. */
import type { SignatureAlgorithm } from '@tether/shared/signature';
import { FaultPlan, type FaultSettings, type GatewayEndpoint } from './faults';
import { Ledger, type DateField } from './ledger';
import { Lifecycle } from './lifecycle';
import { Notifier, type NotificationSettingsPatch } from './notifier';
import type { OutcomePolicy } from './outcomes';
import { seededRandom } from './random';
import { RateMeter } from './rate-meter';
import { Scheduler } from './scheduler';

export interface SimulatorTerminal {
  token: string;
  login: string;
  password: string;
  /** Where notifications go when a sale carries no notification_url. */
  notificationUrl?: string;
  /** SHA-1 by default, as in the gateway's SDD example. */
  signatureAlgorithm?: SignatureAlgorithm;
  mode?: 'test' | 'live';
}

/** Receives one line per event; IBANs arrive masked. */
export type SimulatorLog = (event: string, details: Record<string, unknown>) => void;

export interface GenesisSimulatorOptions {
  terminals: SimulatorTerminal[];
  port?: number;
  host?: string;
  /** Same seed, same requests → same outcomes and faults (ids are new on every start: ids.ts). */
  seed?: number;
  outcomes?: OutcomePolicy;
  faults?: FaultSettings;
  notifications?: NotificationSettingsPatch;
  /** Answer a repeated transaction_id with error 450 (default), or charge it again. */
  rejectDuplicateTransactionIds?: boolean;
  /** From an sdd_refund's pending_async answer to its approval; 1 s by default. */
  refundSettlementMs?: number;
  /** The date reconcile by date filters on; the gateway's choice is unknown (emp-genesis.md Q4). */
  reconcileByDate?: 'created' | 'updated';
  log?: SimulatorLog;
}

export interface SimulatorState {
  readonly options: GenesisSimulatorOptions;
  readonly seed: number;
  readonly terminals: readonly SimulatorTerminal[];
  readonly ledger: Ledger;
  readonly lifecycle: Lifecycle;
  readonly faults: FaultPlan;
  readonly notifier: Notifier;
  readonly rateMeter: RateMeter<GatewayEndpoint>;
  readonly scheduler: Scheduler;
  readonly reconcileDateField: DateField;
  outcomes: OutcomePolicy;
  rejectDuplicateTransactionIds: boolean;
  readonly clock: SimulatorClock;
}

/** Real time, shifted by an offset so tests can create transactions on other days. */
export class SimulatorClock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

export function createSimulatorState(options: GenesisSimulatorOptions): SimulatorState {
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const scheduler = new Scheduler((error) => log('scheduled_task_failed', { error: (error as Error).message }));
  const ledger = new Ledger();
  const notifier = new Notifier(options.notifications ?? {}, scheduler, (delivery, attempt) =>
    log('notification_attempt', { uniqueId: delivery.id, url: delivery.url, ...attempt }),
  );
  const clock = new SimulatorClock();
  return {
    options,
    seed,
    terminals: options.terminals,
    ledger,
    notifier,
    scheduler,
    clock,
    lifecycle: new Lifecycle({
      ledger,
      notifier,
      scheduler,
      terminals: options.terminals,
      now: () => clock.now(),
      log,
      refundSettlementMs: options.refundSettlementMs ?? 1_000,
    }),
    faults: new FaultPlan(options.faults ?? {}, seededRandom(seed)),
    rateMeter: new RateMeter<GatewayEndpoint>(),
    reconcileDateField: options.reconcileByDate === 'updated' ? 'updatedAt' : 'createdAt',
    outcomes: options.outcomes ?? {},
    rejectDuplicateTransactionIds: options.rejectDuplicateTransactionIds ?? true,
  };
}
