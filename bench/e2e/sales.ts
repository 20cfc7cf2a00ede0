/**
 * Sales the e2e's Genesis simulator really holds, for the scenarios that play EMP's notifications
 * themselves (the storms, the forgery): created through the simulator's XML API as Tether would
 * send them, put in their final state through its admin API (a status change, a chargeback with a
 * SEPA reason code), and read back through EMP's Chargeback API. Since a notification is only a
 * trigger that the backend confirms by asking EMP about its signed id, the attempts a storm speaks
 * of must be sales EMP knows, in the state EMP will answer with.
 *
 * The simulator notifies every sale it creates or changes; these sales name a sink of the
 * harness as their notification_url, which echoes and forgets, so that only the scenario's own
 * planned notifications reach the edge.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildChargebackXml, buildSddSaleXml, parseGenesisResponse, type SddSaleRequest } from '@tether/shared/genesis-xml';
import { identifyNotification, notificationEcho } from '@tether/shared/notification';
import { germanIban } from '../../dev/testing/iban';
import { E2E_SECRETS, type E2EStack } from './stack';

export interface SimSale {
  transactionId: string;
  uniqueId: string;
  iban: string;
  /** Minor units. */
  amount: number;
  currency: 'EUR';
  /** When EMP took it: the attempt's sent_at. */
  sentAt: Date;
}

/** A notification_url that echoes every notification and keeps nothing: the simulator's own notifications end here. */
export class EchoSink {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  received = 0;

  static async start(): Promise<EchoSink> {
    let sink: EchoSink | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (sink) sink.received += 1;
        const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        try {
          response.writeHead(200, { 'content-type': 'application/xml' }).end(notificationEcho(identifyNotification(fields)));
        } catch {
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sink = new EchoSink(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications`);
    return sink;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// A function, not a constant: stack.ts imports this module, and E2E_SECRETS is not there yet while it loads.
const basicAuth = () => `Basic ${Buffer.from(`${E2E_SECRETS.login}:${E2E_SECRETS.empPassword}`).toString('base64')}`;

async function genesis(stack: E2EStack, path: string, xml: string) {
  const response = await fetch(`${stack.urls.sim}${path}`, {
    method: 'POST',
    headers: { authorization: basicAuth(), 'content-type': 'application/xml' },
    body: xml,
  });
  return parseGenesisResponse(await response.text());
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

export interface SalePlan {
  /** Distinct per scenario: the transaction_ids' prefix, which the simulator's outcome rule matches. */
  prefix: string;
  count: number;
  /** First account number of the sales' IBANs: distinct per scenario, so that blacklists do not collide. */
  firstAccount: number;
  amount?: number;
  notificationUrl: string;
}

/**
 * `count` sdd_sales through the simulator's XML API (POST /process/<token>), every one approved
 * (an outcome rule on the prefix, put before whatever policy the simulator has and removed
 * afterwards). Sent straight to the simulator, not through EMP's front door, whose log the
 * billing scenarios count Tether's sales in.
 */
export async function createSales(stack: E2EStack, plan: SalePlan): Promise<SimSale[]> {
  const policy = await stack.sim<{ rules?: unknown[] }>('GET', '/outcomes');
  await stack.sim('PUT', '/outcomes', {
    ...policy,
    rules: [{ transactionIdPrefix: plan.prefix, outcome: { status: 'approved' } }, ...(policy.rules ?? [])],
  });
  const sales: SimSale[] = new Array(plan.count);
  try {
    await inParallel(
      Array.from({ length: plan.count }, (_, index) => index),
      16,
      async (index) => {
        const request: SddSaleRequest = {
          transactionId: `${plan.prefix}${String(index).padStart(6, '0')}`,
          usage: 'e2e storm',
          amount: plan.amount ?? 1990,
          currency: 'EUR',
          iban: germanIban(plan.firstAccount + index),
          notificationUrl: plan.notificationUrl,
          billingAddress: { firstName: 'Erika', lastName: 'Mustermann', country: 'DE' },
        };
        const sentAt = new Date();
        const answer = await genesis(stack, `/process/${E2E_SECRETS.terminal}`, buildSddSaleXml(request));
        if (answer.kind !== 'payment' || !answer.payment.uniqueId || answer.payment.status !== 'approved') {
          throw new Error(`the simulator did not approve sale ${request.transactionId}: ${JSON.stringify(answer)}`);
        }
        sales[index] = { transactionId: request.transactionId, uniqueId: answer.payment.uniqueId, iban: request.iban, amount: request.amount, currency: 'EUR', sentAt };
      },
    );
  } finally {
    await stack.sim('PUT', '/outcomes', policy);
  }
  return sales;
}

/** A later status of a sale at EMP (a SEPA reject: declined or error). */
export async function changeSaleStatus(stack: E2EStack, uniqueIds: readonly string[], status: 'declined' | 'error'): Promise<void> {
  await inParallel(uniqueIds, 16, async (uniqueId) => {
    await stack.sim('POST', `/transactions/${uniqueId}/status`, { status });
  });
}

/** Charges the sales back at EMP, each with its reason code: EMP's Chargeback API then holds the record. */
export async function chargeBack(stack: E2EStack, chargebacks: ReadonlyArray<{ uniqueId: string; reasonCode: string }>): Promise<void> {
  await inParallel(chargebacks, 16, async ({ uniqueId, reasonCode }) => {
    await stack.sim('POST', `/transactions/${uniqueId}/chargeback`, { reasonCode });
  });
}

/** The sales' statuses as EMP has them now, by unique_id. */
export async function empStatuses(stack: E2EStack): Promise<Map<string, string>> {
  const transactions = await stack.sim<Array<{ uniqueId: string; status: string }>>('GET', '/transactions');
  return new Map(transactions.map((transaction) => [transaction.uniqueId, transaction.status]));
}

/**
 * The reason codes of the sales' chargeback records, as EMP's Chargeback API gives them (the
 * source the backend takes them from; a notification's reason code is a claim), by unique_id.
 */
export async function chargebackReasonCodes(stack: E2EStack, uniqueIds: readonly string[]): Promise<Map<string, string[]>> {
  const codes = new Map<string, string[]>();
  await inParallel(uniqueIds, 8, async (uniqueId) => {
    const answer = await genesis(stack, '/chargebacks', buildChargebackXml({ originalTransactionUniqueId: uniqueId, mode: 'list' }));
    const records = answer.kind === 'chargebacks' ? answer.chargebacks : answer.kind === 'chargeback' ? [answer.chargeback] : [];
    codes.set(uniqueId, records.flatMap((record) => record.reasonCode ?? []));
  });
  return codes;
}
