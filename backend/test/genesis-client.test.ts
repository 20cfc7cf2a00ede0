import net from 'node:net';
import type { SddSaleRequest } from '@tether/shared/genesis-xml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGenesisSimulator, type RunningGenesisSimulator } from '../../dev/genesis/server';
import { listen } from '../../dev/running-server';
import {
  GenesisAuthError,
  GenesisNetworkError,
  GenesisRequestError,
  GenesisServerError,
  GenesisTimeoutError,
} from '../src/emp/errors';
import { createGenesisClient, type GenesisClient, type GenesisClientOptions } from '../src/emp/genesis-client';

const TERMINAL = { token: 'client-test-terminal', login: 'client-login', password: 'client-password' };
const TIMEOUT_MS = 400;

let sim: RunningGenesisSimulator;
let client: GenesisClient;
let sequence = 0;

function clientFor(overrides: Partial<GenesisClientOptions> = {}): GenesisClient {
  return createGenesisClient({
    baseUrl: sim.url,
    wpfUrl: sim.url,
    terminalToken: TERMINAL.token,
    login: TERMINAL.login,
    password: TERMINAL.password,
    timeoutMs: TIMEOUT_MS,
    connectTimeoutMs: 200,
    ...overrides,
  });
}

function sale(overrides: Partial<SddSaleRequest> = {}): SddSaleRequest {
  return {
    transactionId: `client-test-${++sequence}`,
    usage: 'Membership November',
    remoteIp: '245.253.2.12',
    amount: 2990,
    currency: 'EUR',
    iban: 'DE09100100101234567891',
    bic: 'PBNKDEFFXXX',
    billingAddress: { firstName: 'Travis', lastName: 'Pastrana', country: 'DE' },
    ...overrides,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Sends `count` sales a few at a time and returns their unique_ids. */
async function approvedSales(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, count - start) }, () => client.sddSale(sale())),
    );
    for (const response of batch) ids.push(response.uniqueId!);
  }
  return ids;
}

const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  sim = await startGenesisSimulator({ terminals: [TERMINAL], seed: 11 });
  client = clientFor();
});

afterEach(() => sim.control.reset());

afterAll(async () => {
  client.close();
  await sim.close();
});

describe('sddSale', () => {
  it('returns the approval with a 32-hex unique_id and the amount in minor units', async () => {
    const request = sale({ transactionId: '000777', amount: 2990 });
    const response = await client.sddSale(request);
    expect(response).toMatchObject({
      transactionType: 'sdd_sale',
      status: 'approved',
      transactionId: '000777',
      amount: 2990,
      currency: 'EUR',
      sentToAcquirer: true,
    });
    expect(response.uniqueId).toMatch(/^[0-9a-f]{32}$/);
    expect(response.code).toBeUndefined();
  });

  it('returns a decline with its code and messages', async () => {
    sim.control.configureOutcomes({ rules: [{ iban: 'NL91ABNA0417164300', outcome: { status: 'declined', code: '500' } }] });
    const response = await client.sddSale(sale({ iban: 'NL91ABNA0417164300', billingAddress: { firstName: 'A', lastName: 'B', country: 'NL' } }));
    expect(response).toMatchObject({
      status: 'declined',
      code: '500',
      message: 'Transaction declined.',
      technicalMessage: 'Transaction declined by issuer.',
    });
    expect(response.uniqueId).toBeDefined();
  });

  it('writes nothing before beforeWrite resolves, and times the answer from the write', async () => {
    const fresh = clientFor();
    try {
      let seenBeforeWrite = -1;
      const response = await fresh.sddSale(sale(), {
        beforeWrite: async () => {
          seenBeforeWrite = sim.control.requestCount();
          // Longer than the client's timeout: the wait for a rate slot is not the answer's time.
          await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 100));
        },
      });
      expect(seenBeforeWrite).toBe(0);
      expect(response.status).toBe('approved');
      expect(sim.control.requestCount()).toBe(1);

      const refusal = new Error('no slot');
      const error = await fresh.sddSale(sale(), { beforeWrite: () => Promise.reject(refusal) }).catch((caught: unknown) => caught);
      expect(error).toBe(refusal);
      expect(sim.control.requestCount()).toBe(1);
    } finally {
      fresh.close();
    }
  });

  it('returns validation errors as status error with the Genesis code', async () => {
    expect(await client.sddSale(sale({ iban: '' }))).toEqual({
      status: 'error',
      code: '320',
      message: 'Please check input data for errors!',
      technicalMessage: 'iban is missing',
      transactionId: expect.any(String),
    });
    const country = await client.sddSale(sale({ billingAddress: { firstName: 'A', lastName: 'B', country: 'CH' as 'DE' } }));
    expect(country).toMatchObject({ status: 'error', code: '340' });
    expect(country.uniqueId).toBeUndefined();
    expect(sim.control.transactions()).toHaveLength(0);
  });

  it('returns error 450 for a repeated transaction_id, and reconcile finds the first sale', async () => {
    const request = sale();
    const first = await client.sddSale(request);
    const second = await client.sddSale(request);
    expect(second).toMatchObject({ status: 'error', code: '450', transactionId: request.transactionId });
    expect(await client.reconcileByTransactionId(request.transactionId)).toMatchObject({ uniqueId: first.uniqueId, status: 'approved' });
    expect(sim.control.salesPerTransactionId()).toEqual({ [request.transactionId]: 1 });
  });

  it('refuses a fractional amount before sending: minor units are integers', async () => {
    await expect(client.sddSale(sale({ amount: 29.9 }))).rejects.toThrow(RangeError);
    expect(sim.control.requestCount()).toBe(0);
  });
});

describe('failures', () => {
  it('throws GenesisAuthError for wrong credentials', async () => {
    const wrong = clientFor({ password: 'not-the-password' });
    try {
      const error = await wrong.sddSale(sale()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GenesisAuthError);
      expect(error).toMatchObject({ status: 401, code: '110', outcome: 'rejected' });
      expect(String(error)).not.toContain('not-the-password');
      await expect(wrong.reconcileByUniqueId('x')).rejects.toBeInstanceOf(GenesisAuthError);
    } finally {
      wrong.close();
    }
  });

  it('names an unknown terminal token as a refusal', async () => {
    const stranger = clientFor({ terminalToken: 'no-such-terminal' });
    try {
      expect(await stranger.sddSale(sale())).toMatchObject({ status: 'error', code: '120' });
      await expect(stranger.reconcileByUniqueId('x')).rejects.toMatchObject({
        name: 'GenesisRequestError',
        details: { code: '220', technicalMessage: 'Invalid Terminal' },
      });
    } finally {
      stranger.close();
    }
  });

  it('times out within the configured timeout when the answer never comes; the sale is visible by reconcile', async () => {
    sim.control.injectFault({ kind: 'hang', endpoint: 'process' });
    const request = sale();
    const started = performance.now();
    const error = await client.sddSale(request).catch((caught: unknown) => caught);
    const elapsed = performance.now() - started;

    expect(error).toBeInstanceOf(GenesisTimeoutError);
    expect(error).toMatchObject({ phase: 'response', outcome: 'unknown', timeoutMs: TIMEOUT_MS });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 400);
    expect(await client.reconcileByTransactionId(request.transactionId)).toMatchObject({
      status: 'approved',
      transactionId: request.transactionId,
    });
  });

  it('throws GenesisServerError for a 5xx burst without XML, whether or not the sale was processed', async () => {
    sim.control.injectFault({ kind: 'server_error', endpoint: 'process', count: 2, status: 503 });
    sim.control.injectFault({ kind: 'server_error', endpoint: 'process', status: 502, afterProcessing: true });
    const requests = [sale(), sale(), sale(), sale()];
    const results = [];
    for (const request of requests) results.push(await client.sddSale(request).catch((caught: unknown) => caught));

    expect(results.slice(0, 3).map((error) => [error instanceof GenesisServerError, (error as GenesisServerError).status])).toEqual([
      [true, 503],
      [true, 503],
      [true, 502],
    ]);
    expect((results[0] as GenesisServerError).outcome).toBe('unknown');
    expect(results[3]).toMatchObject({ status: 'approved' });
    // The outcome really was unknown: the first two never happened, the third did.
    expect(await client.reconcileByTransactionId(requests[0]!.transactionId)).toBeUndefined();
    expect(await client.reconcileByTransactionId(requests[2]!.transactionId)).toMatchObject({ status: 'approved' });
  });

  it('says not_sent when no connection could be made', async () => {
    const gone = await listen(() => new Response('never'));
    await gone.close();
    const unreachable = clientFor({ baseUrl: gone.url });
    try {
      const error = await unreachable.sddSale(sale()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GenesisNetworkError);
      expect(error).toMatchObject({ outcome: 'not_sent' });
    } finally {
      unreachable.close();
    }
  });

  it('applies the connect timeout to the TLS handshake and says not_sent', async () => {
    // Accepts TCP but never speaks TLS: the connection is never established.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const stalled = clientFor({ baseUrl: `https://127.0.0.1:${port}`, connectTimeoutMs: 150, timeoutMs: 5_000 });
    try {
      const started = performance.now();
      const error = await stalled.sddSale(sale()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GenesisTimeoutError);
      expect(error).toMatchObject({ phase: 'connect', outcome: 'not_sent', timeoutMs: 150 });
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      stalled.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('reconcile', () => {
  it("finds a sale by unique_id and by transaction_id, with its debtor's bank details, and says undefined for unknown ones", async () => {
    const request = sale();
    const { uniqueId } = await client.sddSale(request);
    const byUniqueId = await client.reconcileByUniqueId(uniqueId!);
    expect(byUniqueId).toMatchObject({
      uniqueId,
      transactionId: request.transactionId,
      status: 'approved',
      amount: request.amount,
      bankAccountNumber: request.iban,
      bankIdentifierCode: request.bic,
      billingCountry: 'DE',
      usage: request.usage,
    });
    expect(await client.reconcileByTransactionId(request.transactionId)).toEqual(byUniqueId);
    expect(await client.reconcileByUniqueId('0123456789abcdef0123456789abcdef')).toBeUndefined();
  });

  it('shows a later chargeback as the current status', async () => {
    const { uniqueId } = await client.sddSale(sale());
    sim.control.chargeback(uniqueId!, { reasonCode: 'AM04' });
    expect(await client.reconcileByUniqueId(uniqueId!)).toMatchObject({ status: 'chargebacked' });
  });

  it('walks every page of a date range with more than 100 transactions', async () => {
    sim.control.setClock(new Date(Date.now() - 24 * 60 * 60 * 1000));
    const yesterday = await approvedSales(3);
    sim.control.setClock(undefined);
    const todays = await approvedSales(230);

    const found = await collect(client.reconcileByDateRange({ startDate: today(), endDate: today() }));
    expect(found).toHaveLength(230);
    expect(new Set(found.map((payment) => payment.uniqueId))).toEqual(new Set(todays));
    expect(sim.control.requestCount('reconcile_by_date')).toBe(3);

    const all = await collect(client.reconcileByDateRange({ startDate: new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10), endDate: today() }));
    expect(all).toHaveLength(233);
    expect(all.slice(0, 3).map((payment) => payment.uniqueId)).toEqual(yesterday);
  });

  it('yields nothing for an empty range and throws GenesisRequestError for an invalid date', async () => {
    expect(await collect(client.reconcileByDateRange({ startDate: '2001-01-01', endDate: '2001-01-02' }))).toEqual([]);
    const error = await collect(client.reconcileByDateRange({ startDate: '2026-02-30', endDate: '2026-03-01' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GenesisRequestError);
    expect(error).toMatchObject({ details: { code: '340', technicalMessage: 'start_date has an invalid format' } });
  });
});

describe('chargebacks by date', () => {
  it('pulls every chargeback record of the range, over several pages, with SEPA reason codes', async () => {
    const uniqueIds = await approvedSales(105);
    const reasons = ['AM04', 'MD06', 'AC04', 'MD01'];
    uniqueIds.forEach((uniqueId, index) => sim.control.chargeback(uniqueId, { reasonCode: reasons[index % reasons.length]! }));

    const records = await collect(client.chargebacksByDateRange({ startDate: today(), endDate: today() }));
    expect(records).toHaveLength(105);
    expect(new Set(records.map((record) => record.originalTransactionUniqueId)).size).toBe(105);
    // Two pages of the scope holding them, one empty page of the other scope that may hold SDD.
    expect(sim.control.requestCount('chargebacks_by_date')).toBe(3);
    expect(records[1]).toMatchObject({
      type: '1st Chargeback',
      reasonCode: 'MD06',
      originalTransactionUniqueId: uniqueIds[1],
      amount: -2990,
      currency: 'EUR',
      // "29.9" on the wire (a major-unit decimal), minor units once read.
      chargebackAmount: 2990,
      chargebackCurrency: 'EUR',
      postDate: today(),
    });
    expect(new Set(records.map((record) => record.originalTransactionUniqueId))).toEqual(new Set(uniqueIds));
  });

  it('yields nothing when there are none', async () => {
    expect(await collect(client.chargebacksByDateRange({ startDate: '2001-01-01', endDate: '2001-01-02' }))).toEqual([]);
  });
});
