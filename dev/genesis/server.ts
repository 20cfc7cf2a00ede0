/**
 * A local stand-in for emerchantpay's Genesis gateway: the XML API Tether's client talks to,
 * asynchronous notifications to Tether's edge, and an admin API (/__sim) plus an in-process
 * control handle that make outcomes and faults deterministic for tests.
 */
import { Hono } from 'hono';
import { listen, type RunningServer } from '../running-server';
import { adminRoutes } from './admin';
import { createControl, type GenesisSimulatorControl } from './control';
import { gatewayRoutes } from './gateway';
import { createSimulatorState, type GenesisSimulatorOptions } from './state';

export type { GenesisSimulatorControl, TransactionView } from './control';
export type { FaultSettings, GatewayEndpoint, InjectedFault } from './faults';
export type { NotificationDelivery, NotificationSettings, NotificationSettingsPatch } from './notifier';
export type { OutcomePolicy, SaleOutcome } from './outcomes';
export type { GenesisSimulatorOptions, SimulatorLog, SimulatorTerminal } from './state';

export interface RunningGenesisSimulator extends RunningServer {
  control: GenesisSimulatorControl;
}

export async function startGenesisSimulator(options: GenesisSimulatorOptions): Promise<RunningGenesisSimulator> {
  const state = createSimulatorState(options);
  const control = createControl(state);
  // Not strict: Genesis paths work with and without a trailing slash (emp-genesis.md §1).
  const app = new Hono({ strict: false });
  app.route('/__sim', adminRoutes(control));
  app.route('/', gatewayRoutes(state));
  const server = await listen(app.fetch, { port: options.port, host: options.host });
  return {
    ...server,
    control,
    close: async () => {
      // Ends hung requests, pending notifications and retries before the sockets close.
      state.scheduler.close();
      state.rateMeter.close();
      await server.close();
    },
  };
}
