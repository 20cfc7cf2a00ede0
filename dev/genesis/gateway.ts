/**
 * The fake Genesis gateway's XML API (emp-genesis.md §1, §2, §4, §6.2, §9): sdd_sale and sdd_refund processing,
 * reconcile (single and by date) and the merchant-level Chargeback API, behind Basic auth and
 * the configured faults. Paths are accepted with and without a trailing slash.
 */
import { GENESIS_ERROR_CODES as CODES } from '@tether/shared/genesis-codes';
import {
  buildGenesisResponseXml,
  chargebackRequestSchema,
  chargebacksByDateRequestSchema,
  parseGenesisDate,
  readGenesisXml,
  reconcileByDateRequestSchema,
  reconcileRequestSchema,
  wpfReconcileRequestSchema,
  sddRecurringSaleRequestSchema,
  sddRefundRequestSchema,
  sddSaleRequestSchema,
  type GenesisErrorDetails,
  type GenesisResponse,
  type GenesisXmlDocument,
} from '@tether/shared/genesis-xml';
import { Hono, type Context } from 'hono';
import type { GatewayEndpoint } from './faults';
import type { SimChargeback } from './ledger';
import { MESSAGES, technicalMessage } from './messages';
import { decideOutcome } from './outcomes';
import type { SimulatorState, SimulatorTerminal } from './state';
import { inputError, validationError } from './validation';
import { chargebackRecordOf, paymentResponseOf, refundResponseOf } from './views';

const PAGE_SIZE = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Who is asking: the terminal named in the path, or every terminal of the merchant for the Chargeback API. */
interface Caller {
  terminal: SimulatorTerminal | undefined;
  merchantTokens: string[];
}

type Handler = (document: GenesisXmlDocument, caller: Caller, request: Request) => GenesisResponse;

type ErrorRoot = 'payment_response' | 'chargeback_response' | 'wpf_payment';

const refused = (error: GenesisErrorDetails, root: ErrorRoot = 'payment_response'): GenesisResponse => ({
  kind: 'error',
  root,
  error,
});

function xmlResponse(response: GenesisResponse, status?: number): Response {
  return new Response(buildGenesisResponseXml(response), {
    status: status ?? (response.kind === 'error' ? 400 : 200),
    headers: { 'content-type': 'application/xml; charset=utf-8' },
  });
}

/** What a load balancer in front of the gateway answers: no XML. */
const serverError = (status: number) =>
  new Response('<html><body><h1>Service Unavailable</h1></body></html>', { status, headers: { 'content-type': 'text/html' } });

function credentials(header: string | undefined): { login: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function unauthorized(): Response {
  const text = technicalMessage(CODES.authentication);
  const response = xmlResponse(refused({ code: CODES.authentication, message: text, technicalMessage: text }), 401);
  response.headers.set('www-authenticate', 'Basic realm="Web Password"');
  return response;
}

/** Authentication, content type and XML parsing, shared by every endpoint; then the handler. */
function answer(
  state: SimulatorState,
  c: Context,
  body: string,
  expectedRoot: string,
  scope: 'terminal' | 'merchant',
  handler: Handler,
): Response {
  const given = credentials(c.req.header('authorization'));
  const merchantTerminals = state.terminals.filter(
    (t) => given && t.login === given.login && t.password === given.password,
  );
  if (merchantTerminals.length === 0) return unauthorized();
  const terminal = scope === 'terminal' ? merchantTerminals.find((t) => t.token === c.req.param('token')) : undefined;
  if (scope === 'terminal' && !terminal) {
    const code = expectedRoot === 'reconcile' ? CODES.invalidTerminal : CODES.configuration;
    const message = expectedRoot === 'reconcile' ? MESSAGES.reconcileFailure : MESSAGES.failure;
    return xmlResponse(refused({ code, message, technicalMessage: technicalMessage(code) }));
  }
  const errorRoot: ErrorRoot =
    expectedRoot === 'chargeback_request' ? 'chargeback_response' : expectedRoot === 'wpf_reconcile' ? 'wpf_payment' : 'payment_response';
  if (!/^(text|application)\/xml\b/i.test(c.req.header('content-type') ?? '')) {
    return xmlResponse(refused(inputError(CODES.invalidContentType, technicalMessage(CODES.invalidContentType)), errorRoot));
  }
  let document: GenesisXmlDocument;
  try {
    document = readGenesisXml(body);
  } catch (error) {
    return xmlResponse(refused(inputError(CODES.invalidXml, (error as Error).message), errorRoot));
  }
  if (document.root !== expectedRoot) {
    return xmlResponse(refused(inputError(CODES.invalidXml, `expected <${expectedRoot}>, got <${document.root}>`), errorRoot));
  }
  return xmlResponse(handler(document, { terminal, merchantTokens: merchantTerminals.map((t) => t.token) }, c.req.raw));
}

function route(
  state: SimulatorState,
  endpoint: GatewayEndpoint,
  expectedRoot: string,
  scope: 'terminal' | 'merchant',
  handler: Handler,
) {
  return async (c: Context): Promise<Response> => {
    state.rateMeter.record(endpoint);
    const fault = state.faults.next(endpoint);
    const body = await c.req.text();
    const clientGone = c.req.raw.signal;
    if (fault.latencyMs > 0) await state.scheduler.sleep(fault.latencyMs, clientGone);
    if (fault.kind !== 'none' && !fault.afterProcessing) {
      if (fault.kind === 'hang') await state.scheduler.sleep(fault.hangMs, clientGone);
      return serverError(fault.kind === 'hang' ? 504 : fault.status);
    }
    const response = answer(state, c, body, expectedRoot, scope, handler);
    if (fault.kind === 'hang') await state.scheduler.sleep(fault.hangMs, clientGone);
    return fault.kind === 'server_error' ? serverError(fault.status) : response;
  };
}

function processSale(state: SimulatorState): Handler {
  return ({ fields }, { terminal }, request) => {
    if (fields.transactionType === undefined) {
      return refused(inputError(CODES.missingArgument, 'transaction_type is missing', fields.transactionId));
    }
    if (fields.transactionType === 'sdd_refund') return processRefund(state, fields, terminal!);
    if (fields.transactionType === 'sdd_recurring_sale') return processRecurringSale(state, fields, terminal!, request);
    if (fields.transactionType !== 'sdd_sale' && fields.transactionType !== 'sdd_init_recurring_sale') {
      return refused(inputError(CODES.invalidTransactionType, technicalMessage(CODES.invalidTransactionType), fields.transactionId));
    }
    const transactionType = fields.transactionType;
    const parsed = sddSaleRequestSchema.safeParse(fields);
    if (!parsed.success) return refused(validationError(parsed.error.issues, fields));
    const sale = parsed.data;
    if (isDuplicate(state, terminal!, sale.transactionId)) return duplicate(sale.transactionId);
    const outcome = decideOutcome(state.outcomes, state.seed, sale);
    const transaction = state.lifecycle.createSale(terminal!, sale, outcome, new URL(request.url).origin, { transactionType });
    return { kind: 'payment', payment: paymentResponseOf(transaction, 'sale') };
  };
}

/**
 * sdd_recurring_sale: its reference must be an sdd_init_recurring_sale of this terminal (410 when
 * unknown) that was approved; a fully refunded or charged-back first debit ends the series (420:
 * REF "SDD Init Recurring Sale": "if an SddInitRecurringSale is fully refunded, the recurring
 * series is stopped"). The outcome policy decides it like a sale, on the first debit's account.
 */
function processRecurringSale(state: SimulatorState, fields: Record<string, unknown>, terminal: SimulatorTerminal, request: Request): GenesisResponse {
  const parsed = sddRecurringSaleRequestSchema.safeParse(fields);
  if (!parsed.success) return refused(validationError(parsed.error.issues, fields));
  const recurring = parsed.data;
  if (isDuplicate(state, terminal, recurring.transactionId)) return duplicate(recurring.transactionId);
  const first = state.ledger.find(terminal.token, { uniqueId: recurring.referenceId });
  const refusal = (code: string) =>
    refused({ code, message: MESSAGES.failure, technicalMessage: technicalMessage(code), transactionId: recurring.transactionId });
  if (!first || first.transactionType !== 'sdd_init_recurring_sale') return refusal(CODES.referenceNotFound);
  if (first.status !== 'approved') return refusal(CODES.referenceWorkflow);
  const sale = { ...first.request, transactionId: recurring.transactionId, usage: recurring.usage, amount: recurring.amount, currency: recurring.currency };
  const outcome = decideOutcome(state.outcomes, state.seed, sale);
  const transaction = state.lifecycle.createSale(terminal, sale, outcome, new URL(request.url).origin, {
    transactionType: 'sdd_recurring_sale',
    referenceId: first.uniqueId,
  });
  return { kind: 'payment', payment: paymentResponseOf(transaction, 'sale') };
}

function isDuplicate(state: SimulatorState, terminal: SimulatorTerminal, transactionId: string): boolean {
  if (!state.rejectDuplicateTransactionIds) return false;
  return Boolean(state.ledger.find(terminal.token, { transactionId }) ?? state.ledger.findRefund(terminal.token, { transactionId }));
}

const duplicate = (transactionId: string) =>
  refused({ code: CODES.duplicateTransaction, message: MESSAGES.failure, technicalMessage: technicalMessage(CODES.duplicateTransaction), transactionId });

/** States of a sale that can still be refunded: approved, or refunded in part so far. */
const REFUNDABLE = new Set(['approved', 'refunded']);

/**
 * sdd_refund: its reference must be an approved sale of this terminal (410 when unknown, 420 when
 * in another state), and the amount within what the sale has left once its approved and pending
 * refunds are taken off (440, the text of genesis_php's ReconcileErrorStatus.xml).
 */
function processRefund(state: SimulatorState, fields: Record<string, unknown>, terminal: SimulatorTerminal): GenesisResponse {
  const parsed = sddRefundRequestSchema.safeParse(fields);
  if (!parsed.success) return refused(validationError(parsed.error.issues, fields));
  const request = parsed.data;
  if (isDuplicate(state, terminal, request.transactionId)) return duplicate(request.transactionId);
  const original = state.ledger.find(terminal.token, { uniqueId: request.referenceId });
  const refusal = (code: string) =>
    refused({ code, message: MESSAGES.failure, technicalMessage: technicalMessage(code), transactionId: request.transactionId });
  if (!original) return refusal(CODES.referenceNotFound);
  if (!REFUNDABLE.has(original.status)) return refusal(CODES.referenceWorkflow);
  const left = original.request.amount - state.lifecycle.refundedAmount(original.uniqueId, ['approved', 'pending_async']);
  if (request.amount > left || request.currency !== original.request.currency) return refusal(CODES.amountExceedsReference);
  return { kind: 'payment', payment: refundResponseOf(state.lifecycle.createRefund(terminal, request), 'sale') };
}

function reconcile(state: SimulatorState): Handler {
  return ({ fields }, { terminal }) => {
    const parsed = reconcileRequestSchema.safeParse(fields);
    if (!parsed.success) return refused(validationError(parsed.error.issues, fields));
    const transaction = state.ledger.find(terminal!.token, parsed.data);
    const refund = transaction ? undefined : state.ledger.findRefund(terminal!.token, parsed.data);
    if (refund) return { kind: 'payment', payment: refundResponseOf(refund, 'reconcile') };
    if (!transaction) {
      const by = parsed.data.uniqueId ? 'unique ID' : parsed.data.transactionId ? 'transaction ID' : 'ARN';
      return refused({
        code: CODES.transactionNotFound,
        message: MESSAGES.failure,
        technicalMessage: `Transaction with the given ${by} cannot be found!`,
      });
    }
    return { kind: 'payment', payment: paymentResponseOf(transaction, 'reconcile') };
  };
}

/** [from, to], both inclusive; a date without a time ends with its day. Times are UTC. */
function dateRange(start: string, end: string | undefined): { from: Date; to: Date } {
  const from = parseGenesisDate(start)!.date;
  if (!end) return { from, to: new Date(8.64e15) };
  const until = parseGenesisDate(end)!;
  return { from, to: until.hasTime ? until.date : new Date(until.date.getTime() + DAY_MS - 1) };
}

function paginate<T>(items: T[], page: number, perPage: number) {
  return {
    pagination: { page, perPage, totalCount: items.length, pagesCount: Math.ceil(items.length / perPage) },
    items: items.slice((page - 1) * perPage, page * perPage),
  };
}

function reconcileByDate(state: SimulatorState): Handler {
  return ({ fields }, { terminal }) => {
    const parsed = reconcileByDateRequestSchema.safeParse(fields);
    if (!parsed.success) return refused(validationError(parsed.error.issues, fields));
    const { from, to } = dateRange(parsed.data.startDate, parsed.data.endDate);
    const field = state.reconcileDateField;
    // Sales and refunds, oldest first, as the reference's by-date example mixes transaction types.
    const matching = [
      ...state.ledger.inRange(terminal!.token, from, to, field).map((sale) => ({ at: sale[field], payment: () => paymentResponseOf(sale, 'reconcile') })),
      ...state.ledger.refundsInRange(terminal!.token, from, to, field).map((refund) => ({ at: refund[field], payment: () => refundResponseOf(refund, 'reconcile') })),
    ].sort((a, b) => a.at.getTime() - b.at.getTime());
    const { pagination, items } = paginate(matching, parsed.data.page ?? 1, PAGE_SIZE);
    return { kind: 'payments', pagination, payments: items.map((item) => item.payment()) };
  };
}

function chargebackRecords(state: SimulatorState, chargebacks: SimChargeback[]) {
  return chargebacks.map((chargeback) => chargebackRecordOf(chargeback, state.ledger.get(chargeback.originalUniqueId)!));
}

const chargebackNotFound = () =>
  refused(
    { code: CODES.chargebackNotFound, message: 'Chargeback not found!', technicalMessage: technicalMessage(CODES.chargebackNotFound) },
    'chargeback_response',
  );

function chargebacks(state: SimulatorState): Handler {
  return ({ fields }, { merchantTokens }) => {
    const parsed = chargebackRequestSchema.safeParse(fields);
    if (!parsed.success) return refused(validationError(parsed.error.issues, fields), 'chargeback_response');
    const { originalTransactionUniqueId, arn, mode } = parsed.data;
    const found = state.ledger.chargebacks({ terminalTokens: merchantTokens, originalUniqueId: originalTransactionUniqueId, arn });
    if (found.length === 0) return chargebackNotFound();
    if (mode === 'list') {
      const { pagination, items } = paginate(chargebackRecords(state, found), 1, Math.max(found.length, 1));
      return { kind: 'chargebacks', pagination, chargebacks: items };
    }
    return { kind: 'chargeback', chargeback: chargebackRecords(state, [found.at(-1)!])[0]! };
  };
}

/** The simulator posts and imports a chargeback on the same day, so both dates filter the same. */
function chargebacksByDate(state: SimulatorState): Handler {
  return ({ fields }, { merchantTokens }) => {
    const parsed = chargebacksByDateRequestSchema.safeParse(fields);
    if (!parsed.success) return refused(validationError(parsed.error.issues, fields), 'chargeback_response');
    const { startDate, importDate, endDate, scope, page, perPage } = parsed.data;
    const { from, to } = importDate ? dateRange(importDate, importDate) : dateRange(startDate, endDate);
    // Which scope holds SDD chargebacks is not documented; the simulator files them under
    // card_not_present, so that a client asking every candidate scope is tested for merging.
    const found = state.ledger
      .chargebacks({ terminalTokens: merchantTokens })
      .filter((chargeback) => scope === 'card_not_present' && chargeback.createdAt >= from && chargeback.createdAt <= to);
    const { pagination, items } = paginate(chargebackRecords(state, found), page ?? 1, perPage ?? PAGE_SIZE);
    return { kind: 'chargebacks', pagination, chargebacks: items };
  };
}

/**
 * WPF reconcile. Tether never creates Web Payment Forms and the simulator keeps none, so every
 * form is unknown: code 460 as the processing API's reconcile says it, under the WPF root
 * (the reference's WPF error example, fixtures/ref-wpf-reconcile-error-no-search-param.xml).
 */
function wpfReconcile(): Handler {
  return ({ fields }) => {
    const parsed = wpfReconcileRequestSchema.safeParse(fields);
    if (!parsed.success) return refused(validationError(parsed.error.issues, fields), 'wpf_payment');
    return refused(
      { code: CODES.transactionNotFound, message: MESSAGES.failure, technicalMessage: 'Transaction with the given unique ID cannot be found!' },
      'wpf_payment',
    );
  };
}

export function gatewayRoutes(state: SimulatorState): Hono {
  const app = new Hono({ strict: false });
  app.post('/process/:token', route(state, 'process', 'payment_transaction', 'terminal', processSale(state)));
  app.post('/reconcile/by_date/:token', route(state, 'reconcile_by_date', 'reconcile', 'terminal', reconcileByDate(state)));
  app.post('/reconcile/:token', route(state, 'reconcile', 'reconcile', 'terminal', reconcile(state)));
  app.post('/chargebacks/by_date', route(state, 'chargebacks_by_date', 'chargeback_request', 'merchant', chargebacksByDate(state)));
  app.post('/chargebacks', route(state, 'chargebacks', 'chargeback_request', 'merchant', chargebacks(state)));
  app.post('/wpf/reconcile', route(state, 'wpf_reconcile', 'wpf_reconcile', 'merchant', wpfReconcile()));
  return app;
}
