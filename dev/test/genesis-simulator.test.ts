import { GENESIS_ERROR_CODES } from '@tether/shared/genesis-codes';
import {
  buildChargebackXml,
  buildChargebacksByDateXml,
  buildReconcileByDateXml,
  buildReconcileXml,
  buildSddSaleXml,
  parseGenesisResponse,
  type SddSaleRequest,
} from '@tether/shared/genesis-xml';
import { notificationEcho } from '@tether/shared/notification';
import { verifyNotificationSignature } from '@tether/shared/signature';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGenesisSimulator, type RunningGenesisSimulator } from '../genesis/server';
import { listen, type RunningServer } from '../running-server';
import { documentedShapes, fixture, pairsOf, readNotificationFixture, readXml, type Pairs } from './genesis-fixtures';

const TERMINAL = { token: 'sim-terminal', login: 'sim-login', password: 'sim-password' };

/** A merchant endpoint that records notifications and answers as the test tells it. */
interface Receiver extends RunningServer {
  received: Array<{ fields: Record<string, string>; contentType: string | null }>;
  answer: (fields: Record<string, string>, call: number) => Response;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Pick<Receiver, 'received' | 'answer'> = {
    received: [],
    answer: (fields) => echo(fields.unique_id!),
  };
  const server = await listen(async (request) => {
    const fields = Object.fromEntries(new URLSearchParams(await request.text()));
    receiver.received.push({ fields, contentType: request.headers.get('content-type') });
    return receiver.answer(fields, receiver.received.length);
  });
  return Object.assign(receiver, server);
}

const echo = (id: string, status = 200) =>
  new Response(notificationEcho({ kind: 'api', id }), { status, headers: { 'content-type': 'application/xml' } });

let receiver: Receiver;
let sim: RunningGenesisSimulator;
let sequence = 0;

function sale(overrides: Partial<SddSaleRequest> = {}): SddSaleRequest {
  return {
    transactionId: `sim-test-${++sequence}`,
    usage: 'Membership November',
    amount: 100,
    currency: 'EUR',
    iban: 'DE09100100101234567891',
    bic: 'PBNKDEFFXXX',
    billingAddress: { firstName: 'Travis', lastName: 'Pastrana', country: 'DE' },
    ...overrides,
  };
}

function post(path: string, xml: string, options: { password?: string; contentType?: string; signal?: AbortSignal } = {}) {
  const auth = Buffer.from(`${TERMINAL.login}:${options.password ?? TERMINAL.password}`).toString('base64');
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': options.contentType ?? 'text/xml' },
    body: xml,
    signal: options.signal,
  });
}

async function postSale(request: SddSaleRequest) {
  const response = await post(`/process/${TERMINAL.token}/`, buildSddSaleXml(request));
  return { status: response.status, body: parseGenesisResponse(await response.text()) };
}

async function approvedSale(request = sale()): Promise<string> {
  const { body } = await postSale(request);
  if (body.kind !== 'payment' || body.payment.status !== 'approved') throw new Error(`sale not approved: ${JSON.stringify(body)}`);
  return body.payment.uniqueId!;
}

const notificationsFor = (uniqueId: string) => receiver.received.filter((entry) => entry.fields.unique_id === uniqueId);

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await startGenesisSimulator({
    terminals: [{ ...TERMINAL, notificationUrl: `${receiver.url}/emp/notifications`, signatureAlgorithm: 'SHA-256' }],
    seed: 7,
    notifications: { delayMs: 5, retry: { initialDelayMs: 20, factor: 1.5, maxDelayMs: 100, maxAttempts: 4 } },
  });
});

afterEach(() => {
  sim.control.reset();
  receiver.received.length = 0;
  receiver.answer = (fields) => echo(fields.unique_id!);
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
});

describe('notifications', () => {
  it('posts a signed, form-encoded notification of the sale and stops at the first correct echo', async () => {
    const uniqueId = await approvedSale(sale({ transactionId: '000123', amount: 4999 }));

    await vi.waitFor(() => expect(sim.control.notifications({ uniqueId })[0]?.state).toBe('acknowledged'));
    const [notification] = notificationsFor(uniqueId);
    expect(notification!.contentType).toBe('application/x-www-form-urlencoded');
    expect(notification!.fields).toMatchObject({
      transaction_id: '000123',
      unique_id: uniqueId,
      transaction_type: 'sdd_sale',
      terminal_token: TERMINAL.token,
      status: 'approved',
      amount: '4999',
      account_holder: 'Travis Pastrana',
      bank_account_number: 'DE09100100101234567891',
      bank_identifier_code: 'PBNKDEFFXXX',
    });
    expect(notification!.fields.signature).toHaveLength(64);
    expect(await verifyNotificationSignature(uniqueId, notification!.fields.signature!, [TERMINAL.password])).toBe(true);
    expect(await verifyNotificationSignature(uniqueId, notification!.fields.signature!, ['another-password'])).toBe(false);
    expect(sim.control.notifications({ uniqueId })[0]!.attempts).toHaveLength(1);
  });

  it('resends until the merchant answers 2xx with the matching echo', async () => {
    receiver.answer = (fields, call) =>
      call === 1 ? new Response('OK') : call === 2 ? echo(fields.unique_id!, 500) : echo(fields.unique_id!);
    const uniqueId = await approvedSale();

    await vi.waitFor(() => expect(sim.control.notifications({ uniqueId })[0]?.state).toBe('acknowledged'));
    const attempts = sim.control.notifications({ uniqueId })[0]!.attempts;
    expect(attempts.map((attempt) => [attempt.httpStatus, attempt.acknowledged])).toEqual([
      [200, false],
      [500, false],
      [200, true],
    ]);
    expect(notificationsFor(uniqueId)).toHaveLength(3);
  });

  it('never counts an echo of another id as acknowledged, and gives up after the last attempt', async () => {
    receiver.answer = () => echo('someone-else');
    const uniqueId = await approvedSale();

    await vi.waitFor(() => expect(sim.control.notifications({ uniqueId })[0]?.state).toBe('gave_up'));
    const delivery = sim.control.notifications({ uniqueId })[0]!;
    expect(delivery.attempts).toHaveLength(4);
    expect(delivery.attempts.every((attempt) => attempt.httpStatus === 200 && !attempt.acknowledged)).toBe(true);
    expect(notificationsFor(uniqueId)).toHaveLength(4);
  });

  it('sends to the notification_url of the request when there is one', async () => {
    const other = await startReceiver();
    try {
      const uniqueId = await approvedSale(sale({ notificationUrl: `${other.url}/elsewhere` }));
      await vi.waitFor(() => expect(other.received.map((entry) => entry.fields.unique_id)).toEqual([uniqueId]));
      expect(notificationsFor(uniqueId)).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it("notifies a chargeback as event chargeback on the original sale, with the chargeback's id, and the reason code when asked", async () => {
    const uniqueId = await approvedSale();
    await vi.waitFor(() => expect(notificationsFor(uniqueId)).toHaveLength(1));

    const record = sim.control.chargeback(uniqueId, { reasonCode: 'MD06' });
    expect(record).toMatchObject({ reasonCode: 'MD06', originalTransactionUniqueId: uniqueId, amount: -100, chargebackAmount: 100 });

    await vi.waitFor(() => expect(notificationsFor(uniqueId)).toHaveLength(2));
    const chargeback = notificationsFor(uniqueId)[1]!.fields;
    expect(chargeback).toMatchObject({
      unique_id: uniqueId,
      transaction_type: 'sdd_sale',
      status: 'chargebacked',
      event: 'chargeback',
      chargeback_unique_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(chargeback.chargeback_unique_id).not.toBe(uniqueId);
    expect(chargeback.rc_code).toBeUndefined();
    expect(await verifyNotificationSignature(uniqueId, chargeback.signature!, [TERMINAL.password])).toBe(true);

    sim.control.configureNotifications({ reasonCodes: true });
    const withReason = await approvedSale();
    sim.control.chargeback(withReason, { reasonCode: 'MD06' });
    await vi.waitFor(() => expect(notificationsFor(withReason)).toHaveLength(2));
    expect(notificationsFor(withReason)[1]!.fields).toMatchObject({ rc_code: 'MD06', rc_description: 'Refund request by the debtor' });

    const reconciled = parseGenesisResponse(await (await post(`/reconcile/${TERMINAL.token}`, buildReconcileXml({ uniqueId }))).text());
    expect(reconciled).toMatchObject({ kind: 'payment', payment: { status: 'chargebacked' } });
  });

  it('can notify a chargeback as its own transaction naming the original (the PHP plan shape)', async () => {
    sim.control.configureNotifications({ chargebackShape: 'chargeback_transaction' });
    const uniqueId = await approvedSale();
    sim.control.chargeback(uniqueId, { reasonCode: 'AM04', amount: 60 });

    await vi.waitFor(() =>
      expect(receiver.received.find((entry) => entry.fields.transaction_type === 'chargeback')).toBeDefined(),
    );
    const fields = receiver.received.find((entry) => entry.fields.transaction_type === 'chargeback')!.fields;
    expect(fields).toMatchObject({ original_transaction_unique_id: uniqueId, reason_code: 'AM04', amount: '60', event: 'chargeback' });
    expect(fields.unique_id).not.toBe(uniqueId);
    expect(await verifyNotificationSignature(fields.unique_id!, fields.signature!, [TERMINAL.password])).toBe(true);
  });

  it('delivers duplicates and, when held, out of order', async () => {
    sim.control.configureNotifications({ hold: true, duplicates: 1 });
    const uniqueId = await approvedSale();
    sim.control.chargeback(uniqueId, { reasonCode: 'AC04' });
    await vi.waitFor(() => expect(sim.control.notifications({ uniqueId })).toHaveLength(4));
    expect(receiver.received).toHaveLength(0);

    await sim.control.releaseNotifications('reversed');
    await vi.waitFor(() => expect(notificationsFor(uniqueId)).toHaveLength(4));
    expect(notificationsFor(uniqueId).map((entry) => entry.fields.status)).toEqual([
      'chargebacked',
      'chargebacked',
      'approved',
      'approved',
    ]);
  });

  it('signs with a wrong password when told to', async () => {
    sim.control.configureNotifications({ invalidSignatures: true });
    const uniqueId = await approvedSale();
    await vi.waitFor(() => expect(notificationsFor(uniqueId).length).toBeGreaterThan(0));
    expect(await verifyNotificationSignature(uniqueId, notificationsFor(uniqueId)[0]!.fields.signature!, [TERMINAL.password])).toBe(
      false,
    );
  });
});

describe('outcomes', () => {
  it('declines by IBAN rule with the given code, and notifies the decline', async () => {
    sim.control.configureOutcomes({ rules: [{ iban: 'DE89370400440532013000', outcome: { status: 'declined', code: '696' } }] });
    const { status, body } = await postSale(sale({ iban: 'DE89370400440532013000' }));
    expect(status).toBe(200);
    expect(body).toMatchObject({
      kind: 'payment',
      payment: { status: 'declined', code: '696', technicalMessage: 'Transaction declined by risk management, iban blacklisted!' },
    });
    expect((await postSale(sale())).body).toMatchObject({ payment: { status: 'approved' } });
  });

  it('changes status later and charges back by amount rule, each with a notification', async () => {
    sim.control.configureOutcomes({
      rules: [
        { amount: 201, outcome: { status: 'approved', later: { status: 'error', code: '900', afterMs: 10 } } },
        { amount: 202, outcome: { status: 'approved', chargeback: { reasonCode: 'AM04', afterMs: 10 } } },
      ],
    });
    const rejected = await approvedSale(sale({ amount: 201 }));
    const chargebacked = await approvedSale(sale({ amount: 202 }));

    await vi.waitFor(() => {
      expect(notificationsFor(rejected).map((entry) => entry.fields.status)).toEqual(['approved', 'error']);
      expect(notificationsFor(chargebacked).map((entry) => entry.fields.status)).toEqual(['approved', 'chargebacked']);
      // Four notifications, each after its own timer: vi.waitFor's default second is too short on a busy 2-core machine.
    }, { timeout: 10_000 });
    expect(notificationsFor(rejected)[1]!.fields).toMatchObject({ error_code: '900', technical_message: 'Some error occurred on the issuer.' });
    expect(notificationsFor(chargebacked)[1]!.fields.event).toBe('chargeback');
    expect(sim.control.transaction(rejected)).toMatchObject({ status: 'error', code: '900' });
  });

  it('decides randomly but the same way for the same seed and transaction_id', async () => {
    const policy = { random: { declineRate: 0.3, errorRate: 0.2 } };
    sim.control.configureOutcomes(policy);
    const ids = Array.from({ length: 40 }, (_, index) => `random-${index}`);
    const first = [];
    for (const transactionId of ids) first.push((await postSale(sale({ transactionId }))).body);
    const statuses = first.map((body) => (body.kind === 'payment' ? body.payment.status : body.kind));
    expect(new Set(statuses)).toEqual(new Set(['approved', 'declined', 'error']));

    const twin = await startGenesisSimulator({ terminals: [TERMINAL], seed: 7, outcomes: policy });
    try {
      const auth = Buffer.from(`${TERMINAL.login}:${TERMINAL.password}`).toString('base64');
      const replay = [];
      for (const transactionId of [...ids].reverse()) {
        const response = await fetch(`${twin.url}/process/${TERMINAL.token}`, {
          method: 'POST',
          headers: { authorization: `Basic ${auth}`, 'content-type': 'text/xml' },
          body: buildSddSaleXml(sale({ transactionId })),
        });
        const body = parseGenesisResponse(await response.text());
        replay.unshift(body.kind === 'payment' ? body.payment.status : body.kind);
      }
      expect(replay).toEqual(statuses);
    } finally {
      await twin.close();
    }
  });
});

describe('ids', () => {
  it('are new on every start, even with the same options, as a restarted simulator must not repeat them', async () => {
    const options = { terminals: [TERMINAL], seed: 7 };
    const idsOf = async (simulator: RunningGenesisSimulator) => {
      const auth = Buffer.from(`${TERMINAL.login}:${TERMINAL.password}`).toString('base64');
      const response = await fetch(`${simulator.url}/process/${TERMINAL.token}`, {
        method: 'POST',
        headers: { authorization: `Basic ${auth}`, 'content-type': 'text/xml' },
        body: buildSddSaleXml(sale({ transactionId: 'same-on-both' })),
      });
      const body = parseGenesisResponse(await response.text());
      if (body.kind !== 'payment') throw new Error(`sale not answered: ${JSON.stringify(body)}`);
      const { arn } = simulator.control.chargeback(body.payment.uniqueId!, { reasonCode: 'MD06' });
      return { uniqueId: body.payment.uniqueId!, arn };
    };
    const first = await startGenesisSimulator(options);
    const second = await startGenesisSimulator(options);
    try {
      const [a, b] = [await idsOf(first), await idsOf(second)];
      for (const ids of [a, b]) expect(ids).toEqual({ uniqueId: expect.stringMatching(/^[0-9a-f]{32}$/), arn: expect.stringMatching(/^[0-9]{23}$/) });
      expect(a.uniqueId).not.toBe(b.uniqueId);
      expect(a.arn).not.toBe(b.arn);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

/** The simulator's documents against the quoted examples in dev/genesis/fixtures, element by element. */
describe('documents as Genesis documents them', () => {
  const names = (pairs: Pairs) => pairs.map(([name]) => name);
  const documented = (name: string) => pairsOf(readXml(fixture(name)));
  const written = async (path: string, xml: string) => pairsOf(readXml(await (await post(path, xml)).text()));
  const expectShapes = (actual: Pairs, reference: Pairs) => {
    const shapes = documentedShapes(actual, reference);
    expect(shapes.actual).toEqual(shapes.documented);
  };

  it('answers an approved sdd_sale with the elements of the reference example, in its order', async () => {
    const reference = documented('ref-sdd-sale-response-approved.xml');
    const approved = await written(`/process/${TERMINAL.token}/`, buildSddSaleXml(sale()));
    // The example's redirect_url is "available for asynchronous mode": a click-flow sale has none.
    expect(names(approved)).toEqual(names(reference).filter((name) => name !== 'redirect_url'));
    expectShapes(approved, reference);

    sim.control.configureOutcomes({ rules: [{ outcome: { status: 'pending_async' } }] });
    const pending = await written(`/process/${TERMINAL.token}/`, buildSddSaleXml(sale()));
    expect(names(pending)).toEqual(names(reference));
    expectShapes(pending, reference);
  });

  it.each(['declined', 'error'] as const)('answers a %s sdd_sale like the reference error example, technical_message placed as in the PHP fixture', async (status) => {
    const reference = documented('ref-sdd-sale-response-error.xml');
    const php = names(documented('php-reconcile-error-status.xml'));
    expect(php.slice(php.indexOf('code'), php.indexOf('code') + 3)).toEqual(['code', 'technical_message', 'message']);
    const expected = names(reference);
    expected.splice(expected.indexOf('message'), 0, 'technical_message');

    sim.control.configureOutcomes({ rules: [{ outcome: { status } }] });
    const answer = await written(`/process/${TERMINAL.token}/`, buildSddSaleXml(sale()));
    expect(names(answer)).toEqual(expected);
    expectShapes(answer, [...reference, ...documented('php-reconcile-error-status.xml')]);
  });

  it("reconciles with elements the reference's reconcile examples have, of the same shapes", async () => {
    const single = documented('ref-reconcile-single-sale-response.xml');
    const page = readXml(fixture('ref-reconcile-by-date-response.xml'));
    const reference = [...single, ...page.children.flatMap(pairsOf), ...documented('php-reconcile-error-status.xml')];
    const uniqueId = await approvedSale(sale({ customerEmail: 'travis@example.com' }));

    const answer = await written(`/reconcile/${TERMINAL.token}/`, buildReconcileXml({ uniqueId }));
    expectShapes(answer, reference);
    expect(names(answer)).toEqual(expect.arrayContaining(['bank_account_number', 'bank_identifier_code', 'customer_email', 'usage']));

    const today = new Date().toISOString().slice(0, 10);
    const byDate = readXml(await (await post(`/reconcile/by_date/${TERMINAL.token}/`, buildReconcileByDateXml({ startDate: today, endDate: today }))).text());
    expect(byDate.name).toBe(page.name);
    expect(Object.keys(byDate.attributes).sort()).toEqual(Object.keys(page.attributes).sort());
    expect(byDate.children.map((record) => record.name)).toEqual(byDate.children.map(() => 'payment_response'));
    for (const record of byDate.children) expectShapes(pairsOf(record), reference);
  });

  it("keeps chargeback records to the elements of the reference's records, in their order: amount negative, the issuer's amounts decimal", async () => {
    const single = documented('ref-chargeback-single-response.xml');
    const uniqueId = await approvedSale(sale({ amount: 1990, customerEmail: 'travis@example.com' }));
    sim.control.chargeback(uniqueId, { reasonCode: 'MD06' });

    const record = await written('/chargebacks', buildChargebackXml({ originalTransactionUniqueId: uniqueId }));
    expect(names(single).filter((name) => names(record).includes(name))).toEqual(names(record));
    expectShapes(record, single);
    expect(Object.fromEntries(record)).toMatchObject({ type: '1st Chargeback', amount: '-1990', chargeback_amount: '19.9', original_transaction_amount: '19.9' });

    const page = readXml(fixture('ref-chargeback-by-date-response.xml'));
    const today = new Date().toISOString().slice(0, 10);
    const byDate = readXml(await (await post('/chargebacks/by_date', buildChargebacksByDateXml({ startDate: today, scope: 'card_not_present' }))).text());
    expect(byDate.name).toBe(page.name);
    expect(Object.keys(byDate.attributes).sort()).toEqual(Object.keys(page.attributes).sort());
    const [first] = page.children.map(pairsOf);
    for (const found of byDate.children.map(pairsOf)) {
      expect(names(first!).filter((name) => names(found).includes(name))).toEqual(names(found));
      expectShapes(found, first!);
    }

    const notFound = await written('/chargebacks', buildChargebackXml({ originalTransactionUniqueId: '0123456789abcdef0123456789abcdef' }));
    expect(notFound).toEqual(documented('ref-chargeback-not-found-error.xml'));
  });

  const notified = (fixtures: string[]) => fixtures.flatMap((name) => readNotificationFixture(fixture(name)));
  const sent = async (uniqueId: string, index: number): Promise<Pairs> => {
    await vi.waitFor(() => expect(notificationsFor(uniqueId).length).toBeGreaterThan(index));
    return Object.entries(notificationsFor(uniqueId)[index]!.fields);
  };
  /** Fields every API notification example of the reference has. */
  const CORE = ['transaction_id', 'unique_id', 'transaction_type', 'terminal_token', 'status', 'amount', 'signature'];

  it("notifies a sale's status with the fields of the reference's notification examples", async () => {
    const approved = await sent(await approvedSale(), 0);
    const reference = notified(['ref-notification-sale3d-approved.txt', 'ref-notification-sofort-bank.txt']);
    expectShapes(approved, reference);
    expect(names(approved)).toEqual(expect.arrayContaining([...CORE, 'bank_account_number', 'bank_identifier_code', 'account_holder']));

    sim.control.configureOutcomes({ rules: [{ outcome: { status: 'approved', later: { status: 'declined', code: '500', afterMs: 5 } } }] });
    const declined = await sent(await approvedSale(), 1);
    expectShapes(declined, [...reference, ...notified(['ref-notification-declined-error-code.txt'])]);
    expect(Object.fromEntries(declined)).toMatchObject({ status: 'declined', error_code: '500', error_message: expect.any(String), technical_message: expect.any(String) });
  });

  it("notifies a chargeback with exactly the fields of the reference's chargeback notification", async () => {
    const uniqueId = await approvedSale();
    sim.control.chargeback(uniqueId, { reasonCode: 'MD06' });
    const chargeback = await sent(uniqueId, 1);
    const reference = notified(['ref-notification-chargeback.txt']);
    expect(names(chargeback).sort()).toEqual(names(reference).sort());
    expectShapes(chargeback, reference);
  });

  it("answers a reconcile of an unknown transaction exactly as the .NET SDK's mock", async () => {
    const notFound = await written(`/reconcile/${TERMINAL.token}/`, buildReconcileXml({ uniqueId: '0123456789abcdef0123456789abcdef' }));
    expect(Object.fromEntries(notFound)).toEqual(Object.fromEntries(documented('net-reconcile-not-found-error.xml')));
  });
});

describe('gateway answers', () => {
  it('accepts the paths with and without a trailing slash, and refuses bad credentials with 401 and code 110', async () => {
    const withSlash = await post(`/process/${TERMINAL.token}/`, buildSddSaleXml(sale()));
    const withoutSlash = await post(`/process/${TERMINAL.token}`, buildSddSaleXml(sale()));
    expect([withSlash.status, withoutSlash.status]).toEqual([200, 200]);

    const denied = await post(`/process/${TERMINAL.token}/`, buildSddSaleXml(sale()), { password: 'wrong' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Basic realm="Web Password"');
    expect(parseGenesisResponse(await denied.text())).toMatchObject({ kind: 'error', error: { code: '110' } });
  });

  it('refuses an unknown terminal token', async () => {
    const process = parseGenesisResponse(await (await post('/process/nope/', buildSddSaleXml(sale()))).text());
    expect(process).toMatchObject({ kind: 'error', error: { code: GENESIS_ERROR_CODES.configuration } });
    const reconcile = parseGenesisResponse(await (await post('/reconcile/nope/', buildReconcileXml({ uniqueId: 'x' }))).text());
    expect(reconcile).toMatchObject({ kind: 'error', error: { code: '220', technicalMessage: 'Invalid Terminal' } });
  });

  it('validates the sale: missing 320, malformed 330, invalid value 340, duplicate 450, content type 360, XML 350', async () => {
    const code = async (xml: string, contentType?: string) => {
      const response = await post(`/process/${TERMINAL.token}/`, xml, { contentType });
      const body = parseGenesisResponse(await response.text());
      return body.kind === 'error' ? [response.status, body.error.code, body.error.technicalMessage] : body.kind;
    };
    expect(await code(buildSddSaleXml(sale({ iban: '' })))).toEqual([400, '320', 'iban is missing']);
    expect(await code(buildSddSaleXml(sale()).replace('<amount>100</amount>', '<amount>1.50</amount>'))).toEqual([
      400,
      '330',
      'amount has an invalid format',
    ]);
    expect(await code(buildSddSaleXml(sale({ billingAddress: { firstName: 'A', lastName: 'B', country: 'US' as 'DE' } })))).toEqual([
      400,
      '340',
      'billing_address.country is invalid',
    ]);
    expect(await code(buildSddSaleXml(sale()).replace('sdd_sale', 'sale'))).toEqual([400, '310', expect.any(String)]);
    const duplicate = sale();
    expect(await code(buildSddSaleXml(duplicate))).toBe('payment');
    expect(await code(buildSddSaleXml(duplicate))).toEqual([400, '450', expect.any(String)]);
    expect(await code(buildSddSaleXml(sale()), 'application/json')).toEqual([400, '360', expect.any(String)]);
    expect(await code('<payment_transaction><amount>')).toEqual([400, '350', expect.any(String)]);
    expect(sim.control.salesPerTransactionId()).toEqual({ [duplicate.transactionId]: 1 });
  });

  it('charges a repeated transaction_id again when duplicates are not rejected, and reports the double charge', async () => {
    const lenient = await startGenesisSimulator({ terminals: [TERMINAL], rejectDuplicateTransactionIds: false });
    try {
      const auth = Buffer.from(`${TERMINAL.login}:${TERMINAL.password}`).toString('base64');
      const request = sale();
      for (let i = 0; i < 2; i++) {
        await fetch(`${lenient.url}/process/${TERMINAL.token}/`, {
          method: 'POST',
          headers: { authorization: `Basic ${auth}`, 'content-type': 'text/xml' },
          body: buildSddSaleXml(request),
        });
      }
      expect(lenient.control.doubleCharges()).toEqual([request.transactionId]);
      const sales = await (await fetch(`${lenient.url}/__sim/sales`)).json();
      expect(sales).toEqual({ salesPerTransactionId: { [request.transactionId]: 2 }, doubleCharges: [request.transactionId] });
    } finally {
      await lenient.close();
    }
  });
});

describe('faults', () => {
  it('answers a 5xx burst without XML and without processing, then recovers', async () => {
    sim.control.injectFault({ kind: 'server_error', endpoint: 'process', count: 2, status: 502 });
    const requests = [sale(), sale(), sale()];
    const answers = [];
    for (const request of requests) {
      const response = await post(`/process/${TERMINAL.token}/`, buildSddSaleXml(request));
      answers.push([response.status, response.headers.get('content-type')?.split(';')[0]]);
    }
    expect(answers).toEqual([
      [502, 'text/html'],
      [502, 'text/html'],
      [200, 'application/xml'],
    ]);
    expect(Object.keys(sim.control.salesPerTransactionId())).toEqual([requests[2]!.transactionId]);
  });

  it('processes a sale but never answers it (the unknown-outcome case)', async () => {
    sim.control.injectFault({ kind: 'hang', endpoint: 'process' });
    const request = sale();
    const started = Date.now();
    await expect(post(`/process/${TERMINAL.token}/`, buildSddSaleXml(request), { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sim.control.transactions({ transactionId: request.transactionId })).toHaveLength(1);
  });

  it('applies rates to the chosen endpoints only, and adds latency', async () => {
    sim.control.configureFaults({ serverErrorRate: 1, endpoints: ['reconcile'], latencyMs: 50 });
    const started = Date.now();
    const uniqueId = await approvedSale();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect((await post(`/reconcile/${TERMINAL.token}/`, buildReconcileXml({ uniqueId }))).status).toBe(503);
  });

  it('measures the most requests in any one-second window', async () => {
    await Promise.all(Array.from({ length: 12 }, () => postSale(sale())));
    await post(`/reconcile/${TERMINAL.token}/`, buildReconcileXml({ uniqueId: 'x' }));
    expect(sim.control.maxRequestsPerSecond('process')).toBe(12);
    expect(sim.control.maxRequestsPerSecond()).toBe(13);
    const rate = await (await fetch(`${sim.url}/__sim/rate`)).json();
    expect(rate).toMatchObject({ maxPerSecond: { all: 13, process: 12, reconcile: 1 }, requests: { process: 12 } });
    const arrivals = (await (await fetch(`${sim.url}/__sim/rate/process/arrivals`)).json()) as number[];
    expect(arrivals).toHaveLength(12);
    expect(arrivals[0]).toBe(0);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    expect((await fetch(`${sim.url}/__sim/rate/refunds/arrivals`)).status).toBe(404);
  });

  it('reports how late its event loop ran, so a reader knows how far its timings hold', async () => {
    sim.control.reset();
    const blockedUntil = performance.now() + 60;
    while (performance.now() < blockedUntil);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { eventLoopDelayMs } = (await (await fetch(`${sim.url}/__sim/rate`)).json()) as { eventLoopDelayMs: { p99: number; max: number } };
    expect(eventLoopDelayMs.max).toBeGreaterThanOrEqual(50);
  });
});

describe('admin API', () => {
  it('configures faults, lists transactions and triggers a chargeback over HTTP', async () => {
    const uniqueId = await approvedSale();
    const admin = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${sim.url}/__sim${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    expect((await admin('/faults/inject', 'POST', { kind: 'server_error', count: 1 })).status).toBe(200);
    expect((await post(`/reconcile/${TERMINAL.token}/`, buildReconcileXml({ uniqueId }))).status).toBe(503);
    expect((await admin('/faults', 'PUT', { timeoutRate: 2 })).status).toBe(400);

    const listed = (await (await admin(`/transactions?transaction_id=${sim.control.transaction(uniqueId)!.transactionId}`)).json()) as Array<{
      uniqueId: string;
    }>;
    expect(listed.map((transaction) => transaction.uniqueId)).toEqual([uniqueId]);

    const chargeback = await admin(`/transactions/${uniqueId}/chargeback`, 'POST', { reasonCode: 'MD01' });
    expect(await chargeback.json()).toMatchObject({ reasonCode: 'MD01', originalTransactionUniqueId: uniqueId });
    expect((await admin(`/transactions/${uniqueId}/chargeback`, 'POST', { reasonCode: 'MD01' })).status).toBe(409);
    expect((await admin('/transactions/unknown/chargeback', 'POST', { reasonCode: 'MD01' })).status).toBe(404);

    const today = new Date().toISOString().slice(0, 10);
    const byDate = await post('/chargebacks/by_date', buildChargebacksByDateXml({ startDate: today, scope: 'card_not_present' }));
    expect(parseGenesisResponse(await byDate.text())).toMatchObject({
      kind: 'chargebacks',
      pagination: { totalCount: 1, pagesCount: 1 },
      chargebacks: [{ reasonCode: 'MD01', originalTransactionUniqueId: uniqueId }],
    });

    await vi.waitFor(async () => {
      const deliveries = (await (await admin(`/notifications?unique_id=${uniqueId}`)).json()) as Array<{ fields: { status: string } }>;
      expect(deliveries.map((delivery) => delivery.fields.status)).toEqual(['approved', 'chargebacked']);
    });
  });
});
