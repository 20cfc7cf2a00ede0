/**
 * Tether's client for emerchantpay's Genesis XML API (../shared/emp-genesis.md §1–4, §6.2):
 * sdd_sale, reconcile and the Chargeback API. Amounts are integer minor units. The XML answer is
 * read whatever the HTTP status, as the official SDKs do; everything else ends in a typed
 * GenesisError whose `outcome` says whether the request may have been processed.
 *
 * Nothing here logs: requests carry IBANs and names, the Authorization header the API password.
 */
import { GENESIS_ERROR_CODES } from '@tether/shared/genesis-codes';
import {
  buildChargebacksByDateXml,
  buildReconcileByDateXml,
  buildReconcileXml,
  buildSddSaleXml,
  parseGenesisResponse,
  type ChargebackRecord,
  type GenesisDate,
  type GenesisErrorDetails,
  type GenesisResponse,
  type PaymentResponse,
  type ReconcileQuery,
  type SddSaleRequest,
} from '@tether/shared/genesis-xml';
import { GenesisAuthError, GenesisRequestError, GenesisResponseError, GenesisServerError } from './errors';
import { createAgent, postXml } from './post-xml';

export interface GenesisClientOptions {
  /** e.g. https://staging.gate.emerchantpay.net */
  baseUrl: string;
  terminalToken: string;
  login: string;
  password: string;
  /** From sending the request to the last byte of the answer. */
  timeoutMs: number;
  /** For TCP and TLS; a request that fails here never reached EMP. */
  connectTimeoutMs: number;
  userAgent?: string;
}

export interface GenesisDateRange {
  startDate: GenesisDate;
  endDate?: GenesisDate;
}

export interface PagingOptions {
  /** Awaited before each page is requested, e.g. for a rate limit. */
  beforePage?: () => Promise<void>;
}

export interface GenesisClient {
  /**
   * The gateway's answer: approved, declined or error (with code and messages), pending_async…
   * A refused request (validation 3xx, duplicate 450) comes back as status error without a
   * unique_id. Throws a GenesisError when there is no Genesis answer. `beforeWrite`: awaited
   * once the connection is ready, before the request is written (see post-xml.ts); what it
   * throws is thrown as is, and then nothing was sent.
   */
  sddSale(request: SddSaleRequest, options?: { beforeWrite?: () => Promise<void> }): Promise<PaymentResponse>;
  /** The transaction's current state; undefined when Genesis does not know it (code 460). */
  reconcileByUniqueId(uniqueId: string): Promise<PaymentResponse | undefined>;
  reconcileByTransactionId(transactionId: string): Promise<PaymentResponse | undefined>;
  /** Every transaction in the range, page after page until the pages_count of the answers. */
  reconcileByDateRange(range: GenesisDateRange, options?: PagingOptions): AsyncIterable<PaymentResponse>;
  /** Every chargeback record posted in the range, across all the merchant's terminals. */
  chargebacksByDateRange(range: GenesisDateRange, options?: PagingOptions): AsyncIterable<ChargebackRecord>;
  /** Closes kept-alive connections. */
  close(): void;
}

const DEFAULT_USER_AGENT = 'Tether Genesis client';

export function createGenesisClient(options: GenesisClientOptions): GenesisClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  // Sales hold a connection while they wait for their rate slot (see post-xml.ts): reconcile
  // requests get connections of their own, so that they never queue behind those.
  const agents = { sales: createAgent(new URL(base)), queries: createAgent(new URL(base)) };
  const headers = {
    authorization: `Basic ${Buffer.from(`${options.login}:${options.password}`).toString('base64')}`,
    'content-type': 'text/xml',
    accept: 'application/xml, text/xml',
    'user-agent': options.userAgent ?? DEFAULT_USER_AGENT,
  };
  const terminalPath = (path: string) => `/${path}/${encodeURIComponent(options.terminalToken)}/`;

  async function exchange(path: string, xml: string, sale?: { beforeWrite?: () => Promise<void> }): Promise<GenesisResponse> {
    const answer = await postXml(new URL(base + path), xml, {
      agent: sale ? agents.sales : agents.queries,
      headers,
      connectTimeoutMs: options.connectTimeoutMs,
      timeoutMs: options.timeoutMs,
      beforeWrite: sale?.beforeWrite,
    });
    let response: GenesisResponse | undefined;
    let unreadable: Error | undefined;
    try {
      response = parseGenesisResponse(answer.body);
    } catch (error) {
      unreadable = error as Error;
    }
    const refusal = response?.kind === 'error' ? response.error : undefined;
    if (answer.status === 401 || refusal?.code === GENESIS_ERROR_CODES.authentication) {
      throw new GenesisAuthError(answer.status, refusal?.code);
    }
    if (response) return response;
    if (answer.status >= 500) throw new GenesisServerError(answer.status);
    throw new GenesisResponseError(unreadable!.message, answer.status);
  }

  const unexpected = (response: GenesisResponse) => new GenesisResponseError(`unexpected ${response.kind} answer`);

  async function reconcile(query: ReconcileQuery): Promise<PaymentResponse | undefined> {
    const response = await exchange(terminalPath('reconcile'), buildReconcileXml(query));
    if (response.kind === 'payment') return response.payment;
    if (response.kind !== 'error') throw unexpected(response);
    if (response.error.code === GENESIS_ERROR_CODES.transactionNotFound) return undefined;
    throw new GenesisRequestError(response.error);
  }

  /**
   * Walks pages 1..pages_count, trusting pages_count as given (emp-genesis.md §4.2). An empty
   * range may also be answered with a not-found error on the first page (the shape is unknown, Q4).
   */
  async function* pages<T>(
    fetchPage: (page: number) => Promise<GenesisResponse>,
    read: (response: GenesisResponse) => { pagesCount: number; items: T[] } | undefined,
    notFoundCode: string,
    options: PagingOptions = {},
  ): AsyncGenerator<T> {
    for (let page = 1, pagesCount = 1; page <= pagesCount; page++) {
      await options.beforePage?.();
      const response = await fetchPage(page);
      if (response.kind === 'error') {
        if (page === 1 && response.error.code === notFoundCode) return;
        throw new GenesisRequestError(response.error);
      }
      const content = read(response);
      if (!content) throw unexpected(response);
      pagesCount = content.pagesCount;
      yield* content.items;
    }
  }

  return {
    async sddSale(request, options = {}) {
      const response = await exchange(terminalPath('process'), buildSddSaleXml(request), options);
      if (response.kind === 'payment') return response.payment;
      if (response.kind === 'error') return refusedSale(response.error);
      throw unexpected(response);
    },
    reconcileByUniqueId: (uniqueId) => reconcile({ uniqueId }),
    reconcileByTransactionId: (transactionId) => reconcile({ transactionId }),
    reconcileByDateRange: (range, options) =>
      pages(
        (page) => exchange(terminalPath('reconcile/by_date'), buildReconcileByDateXml({ ...range, page })),
        (response) =>
          response.kind === 'payments' ? { pagesCount: response.pagination.pagesCount, items: response.payments } : undefined,
        GENESIS_ERROR_CODES.transactionNotFound,
        options,
      ),
    chargebacksByDateRange: (range, options) =>
      pages(
        (page) => exchange('/chargebacks/by_date', buildChargebacksByDateXml({ ...range, page })),
        (response) =>
          response.kind === 'chargebacks'
            ? { pagesCount: response.pagination.pagesCount, items: response.chargebacks }
            : undefined,
        GENESIS_ERROR_CODES.chargebackNotFound,
        options,
      ),
    close: () => {
      agents.sales.destroy();
      agents.queries.destroy();
    },
  };
}

function refusedSale(error: GenesisErrorDetails): PaymentResponse {
  return { status: 'error', ...error };
}
