/**
 * Tether's client for emerchantpay's Genesis XML API (../shared/emp-genesis.md §1–4, §6.2):
 * sdd_sale, sdd_refund, reconcile and the Chargeback API. Amounts are integer minor units. The XML answer is
 * read whatever the HTTP status, as the official SDKs do; everything else ends in a typed
 * GenesisError whose `outcome` says whether the request may have been processed.
 *
 * Nothing here logs: requests carry IBANs and names, the Authorization header the API password.
 */
import { GENESIS_ERROR_CODES } from '@tether/shared/genesis-codes';
import {
  buildChargebackXml,
  buildChargebacksByDateXml,
  buildReconcileByDateXml,
  buildReconcileXml,
  buildSddRecurringSaleXml,
  buildSddRefundXml,
  buildSddSaleXml,
  buildWpfReconcileXml,
  parseGenesisResponse,
  CHARGEBACK_SCOPES_FOR_SDD,
  type ChargebackRecord,
  type ChargebackScope,
  type GenesisDate,
  type GenesisErrorDetails,
  type GenesisPagination,
  type GenesisResponse,
  type PaymentResponse,
  type ReconcileQuery,
  type SddRecurringSaleRequest,
  type SddRefundRequest,
  type SddSaleRequest,
  type UnusableRecord,
  type WpfPayment,
} from '@tether/shared/genesis-xml';
import { GenesisAuthError, GenesisRequestError, GenesisResponseError, GenesisServerError } from './errors';
import { createAgent, postXml } from './post-xml';

export interface GenesisClientOptions {
  /** e.g. https://staging.gate.emerchantpay.net */
  baseUrl: string;
  /** The Web Payment Form host, e.g. https://staging.wpf.emerchantpay.net */
  wpfUrl: string;
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
  endDate: GenesisDate;
}

export interface PagingOptions {
  /** Awaited before each page is requested, e.g. for a rate limit. */
  beforePage?: () => Promise<void>;
  /** A record of a page that could not be read; the page's other records are still yielded. */
  onUnusable?: (record: UnusableRecord, page: number) => void;
}

export interface Page<T> {
  pagination: GenesisPagination;
  items: T[];
  unusable: UnusableRecord[];
}

export interface GenesisClient {
  /**
   * The gateway's answer: approved, declined or error (with code and messages), pending_async…
   * A refused request (validation 3xx, duplicate 450) comes back as status error without a
   * unique_id. Throws a GenesisError when there is no Genesis answer. `beforeWrite`: awaited
   * once the connection is ready, before the request is written (see post-xml.ts); what it
   * throws is thrown as is, and then nothing was sent.
   */
  sddSale(request: SddSaleRequest, options?: ProcessOptions): Promise<PaymentResponse>;
  /** The first debit of a recurring mandate (SEPA sequence FRST): an sdd_sale's fields under its own type. */
  sddInitRecurringSale(request: SddSaleRequest, options?: ProcessOptions): Promise<PaymentResponse>;
  /** A later debit of a recurring mandate (RCUR), referencing the approved first one's unique_id. */
  sddRecurringSale(request: SddRecurringSaleRequest, options?: ProcessOptions): Promise<PaymentResponse>;
  /**
   * A refund of an approved debit (its unique_id as reference_id), answered like a sale: Genesis
   * documents `pending_async`, the outcome follows by notification or reconcile.
   */
  sddRefund(request: SddRefundRequest, options?: ProcessOptions): Promise<PaymentResponse>;
  /** The transaction's current state; undefined when Genesis does not know it (code 460). */
  reconcileByUniqueId(uniqueId: string): Promise<PaymentResponse | undefined>;
  reconcileByTransactionId(transactionId: string): Promise<PaymentResponse | undefined>;
  /** A Web Payment Form and its payment transactions; undefined when Genesis does not know it. */
  wpfReconcile(wpfUniqueId: string): Promise<WpfPayment | undefined>;
  /** Every transaction in the range, page after page until the pages_count of the answers. */
  reconcileByDateRange(range: GenesisDateRange, options?: PagingOptions): AsyncIterable<PaymentResponse>;
  /** One page of reconcileByDateRange, for callers that decide page by page whether to go on. */
  reconcileByDatePage(range: GenesisDateRange, page: number): Promise<Page<PaymentResponse>>;
  /** Every chargeback record posted in the range, across all the merchant's terminals, in each scope that may hold SDD. */
  chargebacksByDateRange(range: GenesisDateRange, options?: PagingOptions): AsyncIterable<ChargebackRecord>;
  /** Every chargeback record of one transaction (mode=list); empty when it has none (470). */
  chargebacksOfTransaction(originalTransactionUniqueId: string): Promise<Page<ChargebackRecord>>;
  /** Closes kept-alive connections. */
  close(): void;
}

export interface ProcessOptions {
  beforeWrite?: () => Promise<void>;
}

const DEFAULT_USER_AGENT = 'Tether Genesis client';

export function createGenesisClient(options: GenesisClientOptions): GenesisClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const wpfBase = options.wpfUrl.replace(/\/+$/, '');
  // Sales hold a connection while they wait for their rate slot (see post-xml.ts): reconcile
  // requests get connections of their own, so that they never queue behind those.
  const agents = { sales: createAgent(new URL(base)), queries: createAgent(new URL(base)), wpf: createAgent(new URL(wpfBase)) };
  const headers = {
    authorization: `Basic ${Buffer.from(`${options.login}:${options.password}`).toString('base64')}`,
    'content-type': 'text/xml',
    accept: 'application/xml, text/xml',
    'user-agent': options.userAgent ?? DEFAULT_USER_AGENT,
  };
  const terminalPath = (path: string) => `/${path}/${encodeURIComponent(options.terminalToken)}/`;

  async function exchange(path: string, xml: string, sale?: { beforeWrite?: () => Promise<void> }, onWpf = false): Promise<GenesisResponse> {
    const answer = await postXml(new URL((onWpf ? wpfBase : base) + path), xml, {
      agent: sale ? agents.sales : onWpf ? agents.wpf : agents.queries,
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

  const emptyPage = <T>(): Page<T> => ({ pagination: { page: 1, perPage: 0, totalCount: 0, pagesCount: 0 }, items: [], unusable: [] });

  /** A page, or an empty one where Genesis answers "not found" for an empty range (its shape is unknown, Q4). */
  async function page<T>(
    response: GenesisResponse,
    read: (response: GenesisResponse) => Page<T> | undefined,
    notFoundCode: string,
    first: boolean,
  ): Promise<Page<T>> {
    if (response.kind === 'error') {
      if (first && response.error.code === notFoundCode) return emptyPage();
      throw new GenesisRequestError(response.error);
    }
    const content = read(response);
    if (!content) throw unexpected(response);
    return content;
  }

  const readPayments = (response: GenesisResponse): Page<PaymentResponse> | undefined =>
    response.kind === 'payments' ? { pagination: response.pagination, items: response.payments, unusable: [] } : undefined;
  const readChargebacks = (response: GenesisResponse): Page<ChargebackRecord> | undefined => {
    if (response.kind === 'chargebacks') return { pagination: response.pagination, items: response.chargebacks, unusable: response.unusable ?? [] };
    if (response.kind === 'chargeback') return { pagination: { page: 1, perPage: 1, totalCount: 1, pagesCount: 1 }, items: [response.chargeback], unusable: [] };
    return undefined;
  };

  const reconcileByDatePage = async (range: GenesisDateRange, number: number) =>
    page(await exchange(terminalPath('reconcile/by_date'), buildReconcileByDateXml({ ...range, page: number })), readPayments, GENESIS_ERROR_CODES.transactionNotFound, number === 1);
  const chargebacksByDatePage = async (range: GenesisDateRange, scope: ChargebackScope, number: number) =>
    page(await exchange('/chargebacks/by_date', buildChargebacksByDateXml({ ...range, scope, page: number })), readChargebacks, GENESIS_ERROR_CODES.chargebackNotFound, number === 1);

  /** Walks pages 1..pages_count, trusting pages_count as given (emp-genesis.md §4.2). */
  async function* pages<T>(fetchPage: (page: number) => Promise<Page<T>>, options: PagingOptions = {}): AsyncGenerator<T> {
    for (let number = 1, pagesCount = 1; number <= pagesCount; number++) {
      await options.beforePage?.();
      const content = await fetchPage(number);
      for (const record of content.unusable) options.onUnusable?.(record, number);
      pagesCount = content.pagination.pagesCount;
      yield* content.items;
    }
  }

  /** A transaction on the processing endpoint: sales and refunds take the sales' connections (they hold rate slots). */
  async function processTransaction(xml: string, options: ProcessOptions): Promise<PaymentResponse> {
    const response = await exchange(terminalPath('process'), xml, options);
    if (response.kind === 'payment') return response.payment;
    if (response.kind === 'error') return refusedTransaction(response.error);
    throw unexpected(response);
  }

  return {
    // Async, so that a request the builder refuses (a fractional amount) is a rejection, never a throw.
    sddSale: async (request, options = {}) => processTransaction(buildSddSaleXml(request), options),
    sddInitRecurringSale: async (request, options = {}) => processTransaction(buildSddSaleXml(request, 'sdd_init_recurring_sale'), options),
    sddRecurringSale: async (request, options = {}) => processTransaction(buildSddRecurringSaleXml(request), options),
    sddRefund: async (request, options = {}) => processTransaction(buildSddRefundXml(request), options),
    reconcileByUniqueId: (uniqueId) => reconcile({ uniqueId }),
    async wpfReconcile(wpfUniqueId) {
      const response = await exchange('/wpf/reconcile', buildWpfReconcileXml(wpfUniqueId), undefined, true);
      if (response.kind === 'wpf') return response.wpf;
      if (response.kind !== 'error') throw unexpected(response);
      if (response.error.code === GENESIS_ERROR_CODES.transactionNotFound) return undefined;
      throw new GenesisRequestError(response.error);
    },
    reconcileByTransactionId: (transactionId) => reconcile({ transactionId }),
    reconcileByDateRange: (range, options) => pages((number) => reconcileByDatePage(range, number), options),
    reconcileByDatePage,
    async *chargebacksByDateRange(range, options) {
      for (const scope of CHARGEBACK_SCOPES_FOR_SDD) yield* pages((number) => chargebacksByDatePage(range, scope, number), options);
    },
    chargebacksOfTransaction: async (originalTransactionUniqueId) =>
      page(
        await exchange('/chargebacks', buildChargebackXml({ originalTransactionUniqueId, mode: 'list' })),
        readChargebacks,
        GENESIS_ERROR_CODES.chargebackNotFound,
        true,
      ),
    close: () => {
      for (const agent of Object.values(agents)) agent.destroy();
    },
  };
}

function refusedTransaction(error: GenesisErrorDetails): PaymentResponse {
  return { status: 'error', ...error };
}
