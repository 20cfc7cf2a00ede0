/**
 * EMP for tests that confirm notifications: the Genesis simulator with one terminal, and the
 * Upstash REST stand-in on the real Redis for the reconcile rate limit the confirmer shares
 * (a random key prefix each time). `environment` points a node at both; `sale` makes a debit
 * EMP knows and the attempt Tether keeps for it.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { randomBytes } from 'node:crypto';
import { startGenesisSimulator, type GenesisSimulatorOptions, type RunningGenesisSimulator } from '../../../dev/genesis/server';
import { startUpstashRestServer } from '../../../dev/upstash-rest/server';
import { createGenesisClient } from '../../src/emp/genesis-client';
import type { Database } from '../../src/db/client';
import { createAttempt, testIban, type TestAttempt } from './events';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const EMP_TERMINAL = { token: 'confirm-terminal', login: 'confirm-login', password: 'confirm-password' };

export interface TestEmp {
  sim: RunningGenesisSimulator;
  /** Variables for backendEnvironment's overrides. */
  environment: Record<string, string>;
  /** A debit EMP approved, and the attempt Tether keeps for it (same transaction_id, unique_id, amount). */
  sale(db: Database, options?: { status?: AttemptStatus; iban?: string }): Promise<TestAttempt & { uniqueId: string }>;
  close(): Promise<void>;
}

export async function startTestEmp(options: Partial<GenesisSimulatorOptions> = {}): Promise<TestEmp> {
  // No notification URL: the tests deliver notifications themselves.
  const sim = await startGenesisSimulator({ terminals: [EMP_TERMINAL], ...options });
  const token = randomBytes(8).toString('hex');
  const upstash = await startUpstashRestServer({ redisUrl: REDIS_URL, token });
  const client = createGenesisClient({
    baseUrl: sim.url,
    wpfUrl: sim.url,
    terminalToken: EMP_TERMINAL.token,
    login: EMP_TERMINAL.login,
    password: EMP_TERMINAL.password,
    timeoutMs: 2_000,
    connectTimeoutMs: 500,
  });
  return {
    sim,
    environment: {
      EMP_GATEWAY_URL: sim.url,
      EMP_TERMINAL_TOKEN: EMP_TERMINAL.token,
      EMP_API_LOGIN: EMP_TERMINAL.login,
      EMP_API_PASSWORD: EMP_TERMINAL.password,
      EMP_TIMEOUT: '2000',
      EMP_CONNECT_TIMEOUT: '500',
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: token,
      REDIS_KEY_PREFIX: `test:confirm:${randomBytes(6).toString('hex')}:`,
      RECONCILIATION_RATE_LIMIT: '200',
    },
    async sale(db, { status = 'submitted', iban = testIban() } = {}) {
      const transactionId = `tth_${randomBytes(8).toString('hex')}`;
      const answer = await client.sddSale({
        transactionId,
        usage: 'test debit',
        amount: 1990,
        currency: 'EUR',
        iban,
        billingAddress: { firstName: 'Erika', lastName: 'Mustermann', country: 'DE' },
      });
      if (answer.status !== 'approved' || !answer.uniqueId) throw new Error(`the simulator did not approve the sale: ${answer.status}`);
      const attempt = await createAttempt(db, { status, empUniqueId: answer.uniqueId, iban, transactionId });
      return { ...attempt, uniqueId: answer.uniqueId };
    },
    async close() {
      client.close();
      await upstash.close();
      await sim.close();
    },
  };
}
