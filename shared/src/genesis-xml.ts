/**
 * The Genesis XML mapping, shared by the backend's client and the local simulator so both read
 * and write the same documents (../shared/emp-genesis.md §1–4, §5.4, §6.2). Pure: no I/O.
 *
 * Elements are snake_case in XML and camelCase here. Values stay strings — ids and codes such as
 * "000123" must survive — except amounts (integer minor units), page counters and booleans.
 * An empty element counts as absent.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { majorToMinorUnits, minorToMajorUnits } from './currency';
import { NOTIFICATION_KINDS, notificationIdElement, type NotificationIdentity } from './notification';

export class GenesisXmlError extends Error {
  override name = 'GenesisXmlError';
}

// ---------------------------------------------------------------------------------------------
// Reading and writing XML trees

/** Attributes of an element are grouped under this key, e.g. the pagination of `payment_responses`. */
const ATTRIBUTES = '@';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributesGroupName: ATTRIBUTES,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Numeric character references (&#39;) are how notificationEcho escapes, so they must decode.
  htmlEntities: true,
});

const builder = new XMLBuilder({
  format: true,
  indentBy: '  ',
  ignoreAttributes: false,
  attributesGroupName: ATTRIBUTES,
  attributeNamePrefix: '',
});

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const toCamel = (name: string) => name.replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase());
const toSnake = (name: string) => name.replace(/[A-Z]/g, (char) => `_${char.toLowerCase()}`);

type Fields = Record<string, unknown>;

function camelize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(camelize);
  if (node === null || typeof node !== 'object') return node;
  const fields: Fields = {};
  for (const [name, value] of Object.entries(node)) {
    if (value === '' || name === '__proto__') continue;
    fields[name === ATTRIBUTES ? name : toCamel(name)] = camelize(value);
  }
  return fields;
}

function snakeize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(snakeize);
  if (node !== null && typeof node === 'object') {
    const fields: Fields = {};
    for (const [name, value] of Object.entries(node)) {
      if (value === undefined || value === '') continue;
      fields[name === ATTRIBUTES ? name : toSnake(name)] = snakeize(value);
    }
    return fields;
  }
  return String(node);
}

/** A parsed document: its root element's name and its content with camelCase names. */
export interface GenesisXmlDocument {
  root: string;
  fields: Fields;
}

export function readGenesisXml(xml: string): GenesisXmlDocument {
  let parsed: Fields;
  try {
    parsed = parser.parse(xml, true) as Fields;
  } catch (error) {
    throw new GenesisXmlError(`not well-formed XML: ${(error as Error).message}`);
  }
  const roots = Object.keys(parsed);
  if (roots.length !== 1) throw new GenesisXmlError(`expected one root element, found ${roots.length}`);
  const root = roots[0]!;
  const content = camelize(parsed[root]);
  if (content !== undefined && (typeof content !== 'object' || Array.isArray(content))) {
    throw new GenesisXmlError(`<${root}> has no child elements`);
  }
  return { root, fields: (content ?? {}) as Fields };
}

/** The XML name of a field path as zod reports it, e.g. ['billingAddress', 'country'] → billing_address.country. */
export function genesisFieldName(path: readonly PropertyKey[]): string {
  return path.map((segment) => toSnake(String(segment))).join('.');
}

function writeGenesisXml(root: string, fields: object): string {
  return XML_DECLARATION + (builder.build({ [root]: snakeize(fields) }) as string);
}

function parseWith<T extends z.ZodType>(schema: T, root: string, fields: unknown): z.output<T> {
  const result = schema.safeParse(fields);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${genesisFieldName(issue.path)}: ${issue.message}`);
    throw new GenesisXmlError(`invalid <${root}>: ${issues.join('; ')}`);
  }
  return result.data;
}

// ---------------------------------------------------------------------------------------------
// Value formats

/** Integer minor units, e.g. "100" = EUR 1.00. */
const minorUnits = z
  .string()
  .regex(/^\d{1,15}$/, 'must be an integer in minor units')
  .transform(Number);

/** The Chargeback API's `amount`: signed minor units (a 1st chargeback debits the merchant: `-14625`); "14625.0" is tolerated. */
const signedMinorUnits = z
  .string()
  .regex(/^-?\d{1,15}(\.0+)?$/, 'must be an integer in minor units')
  .transform((value) => Math.trunc(Number(value)));


const counter = z.string().regex(/^\d{1,9}$/).transform(Number);
const booleanText = z.enum(['true', 'false']).transform((value) => value === 'true');

const GENESIS_DATE = /^(\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}:\d{2}))?$/;

/** A Genesis request date, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (emp-genesis.md §4.2). */
export type GenesisDate = string;

/** Reads a Genesis request date as UTC; undefined when it is not one. */
export function parseGenesisDate(value: string): { date: Date; hasTime: boolean } | undefined {
  const match = GENESIS_DATE.exec(value);
  if (!match) return undefined;
  const date = new Date(`${match[1]}T${match[2] ?? '00:00:00'}Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== match[1]) return undefined;
  return { date, hasTime: match[2] !== undefined };
}

const genesisDate = z.string().refine((value) => parseGenesisDate(value) !== undefined, 'has an invalid format');

function assertMinorUnits(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new RangeError('amount must be a positive integer in minor units');
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Billing countries Genesis accepts for SEPA Direct Debit (emp-genesis.md §2.1). */
export const SDD_BILLING_COUNTRIES = [
  'AT', 'BE', 'CY', 'EE', 'FI', 'FR', 'DE', 'GR', 'IE', 'IT', 'LV',
  'LT', 'LU', 'MT', 'MC', 'NL', 'PT', 'SK', 'SM', 'SI', 'ES',
] as const;

const requiredText = (max = 255) => z.string().min(1).max(max);
const optionalText = (max = 255) => z.string().max(max).optional();

const addressShape = {
  firstName: optionalText(),
  lastName: optionalText(),
  address1: optionalText(),
  address2: optionalText(),
  zipCode: optionalText(),
  city: optionalText(),
  state: optionalText(),
  neighborhood: optionalText(),
  country: z.string().regex(/^[A-Z]{2}$/).optional(),
};

const addressSchema = z.object(addressShape);
export type GenesisAddress = z.output<typeof addressSchema>;

/**
 * An `sdd_sale` as the gateway validates it. The client builds from this type; the simulator
 * validates incoming requests with it and maps the issues to Genesis codes.
 */
export const sddSaleRequestSchema = z.object({
  transactionId: requiredText(),
  usage: requiredText(),
  remoteIp: z.union([z.ipv4(), z.ipv6()]).optional(),
  amount: minorUnits.refine((amount) => amount > 0, 'must be positive'),
  currency: z.string().regex(/^[A-Z]{3}$/),
  iban: z.string().max(34).regex(/^[A-Z]{2}[0-9A-Z]+$/),
  bic: z.string().regex(/^[A-Z0-9]{8}([A-Z0-9]{3})?$/).optional(),
  customerEmail: z.email().optional(),
  customerPhone: optionalText(32),
  companyName: optionalText(),
  mandateReference: optionalText(),
  notificationUrl: z.url().optional(),
  returnSuccessUrl: z.url().optional(),
  returnFailureUrl: z.url().optional(),
  returnPendingUrl: z.url().optional(),
  billingAddress: z.object({
    ...addressShape,
    firstName: requiredText(),
    lastName: requiredText(),
    country: z.enum(SDD_BILLING_COUNTRIES),
  }),
  shippingAddress: addressSchema.optional(),
  dynamicDescriptorParams: z
    .object({
      merchantName: optionalText(140),
      merchantCity: optionalText(),
      subMerchantId: optionalText(),
      merchantCountry: optionalText(),
    })
    .optional(),
});

export type SddSaleRequest = z.output<typeof sddSaleRequestSchema>;

/**
 * `notification_url` is not confirmed for sdd_sale (emp-genesis.md Q1): send it only once EMP
 * confirms it. An sdd_init_recurring_sale, the first debit of a recurring mandate, has the same
 * fields (REF "SDD Init Recurring Sale": "equal to a normal SddSaleTransaction";
 * fixtures/ref-sdd-init-recurring-sale-request.xml).
 */
export function buildSddSaleXml(request: SddSaleRequest, transactionType: 'sdd_sale' | 'sdd_init_recurring_sale' = 'sdd_sale'): string {
  assertMinorUnits(request.amount);
  return writeGenesisXml('payment_transaction', { transactionType, ...request });
}

/**
 * An `sdd_recurring_sale` (fixtures/ref-sdd-recurring-sale-request.xml): a later debit of a
 * recurring mandate, `reference_id` the unique_id of its approved sdd_init_recurring_sale; no
 * account or address (Genesis has them from the first one). `remote_ip` is required* (conditionally).
 */
export const sddRecurringSaleRequestSchema = z.object({
  transactionId: requiredText(),
  usage: requiredText(),
  remoteIp: z.union([z.ipv4(), z.ipv6()]).optional(),
  referenceId: requiredText(32),
  amount: minorUnits.refine((amount) => amount > 0, 'must be positive'),
  currency: z.string().regex(/^[A-Z]{3}$/),
  dynamicDescriptorParams: sddSaleRequestSchema.shape.dynamicDescriptorParams,
});

export type SddRecurringSaleRequest = z.output<typeof sddRecurringSaleRequestSchema>;

export function buildSddRecurringSaleXml(request: SddRecurringSaleRequest): string {
  assertMinorUnits(request.amount);
  return writeGenesisXml('payment_transaction', { transactionType: 'sdd_recurring_sale', ...request });
}

/**
 * An `sdd_refund` (docs/genesis-protocol.md §3, fixtures/ref-sdd-refund-request.xml): every field
 * required, `reference_id` the refunded debit's unique_id; no remote_ip, no notification_url.
 */
export const sddRefundRequestSchema = z.object({
  transactionId: requiredText(),
  usage: requiredText(),
  amount: minorUnits.refine((amount) => amount > 0, 'must be positive'),
  currency: z.string().regex(/^[A-Z]{3}$/),
  referenceId: requiredText(32),
});

export type SddRefundRequest = z.output<typeof sddRefundRequestSchema>;

export function buildSddRefundXml(request: SddRefundRequest): string {
  assertMinorUnits(request.amount);
  return writeGenesisXml('payment_transaction', { transactionType: 'sdd_refund', ...request });
}

export const reconcileRequestSchema = z
  .object({ uniqueId: optionalText(), transactionId: optionalText(), arn: optionalText() })
  .refine((query) => query.uniqueId || query.transactionId || query.arn, {
    message: 'unique_id, transaction_id or arn is required',
    path: ['uniqueId'],
  });

export type ReconcileQuery = { uniqueId: string } | { transactionId: string } | { arn: string };

export function buildReconcileXml(query: ReconcileQuery): string {
  return writeGenesisXml('reconcile', query);
}

const pageNumber = counter.refine((page) => page >= 1, 'must be at least 1');

/** WPF reconcile: the form's wpf_unique_id (emp-genesis.md §4.3). */
export const wpfReconcileRequestSchema = z.object({ uniqueId: requiredText() });

export function buildWpfReconcileXml(wpfUniqueId: string): string {
  return writeGenesisXml('wpf_reconcile', { uniqueId: wpfUniqueId });
}

/** Both dates required; the range may span 7 days at most per terminal (the reference). */
export const reconcileByDateRequestSchema = z.object({
  startDate: genesisDate,
  endDate: genesisDate,
  page: pageNumber.optional(),
});

export type ReconcileByDateRequest = z.output<typeof reconcileByDateRequestSchema>;

export function buildReconcileByDateXml(request: ReconcileByDateRequest): string {
  return writeGenesisXml('reconcile', request);
}

export const chargebackRequestSchema = z
  .object({ originalTransactionUniqueId: optionalText(), arn: optionalText(), mode: z.literal('list').optional() })
  .refine((query) => query.originalTransactionUniqueId || query.arn, {
    message: 'original_transaction_unique_id or arn is required',
    path: ['originalTransactionUniqueId'],
  });

export type ChargebackQuery = ({ originalTransactionUniqueId: string } | { arn: string }) & {
  /** Every chargeback of the transaction instead of the latest one. */
  mode?: 'list';
};

export function buildChargebackXml(query: ChargebackQuery): string {
  return writeGenesisXml('chargeback_request', query);
}

/**
 * Chargebacks by date, as the reference documents it: `start_date` and `scope` required (the
 * SDKs' externally_processed and processing_type are deprecated, removed after 2026-05-31).
 * Which scope holds SEPA Direct Debit chargebacks is not documented: see CHARGEBACK_SCOPES_FOR_SDD.
 */
export const CHARGEBACK_SCOPES = ['card_present', 'card_not_present', 'external'] as const;

export type ChargebackScope = (typeof CHARGEBACK_SCOPES)[number];

/** Asked and merged until EMP says which one holds SDD chargebacks (docs/genesis-protocol.md). */
export const CHARGEBACK_SCOPES_FOR_SDD: readonly ChargebackScope[] = ['card_not_present', 'external'];

export const chargebacksByDateRequestSchema = z.object({
  startDate: genesisDate,
  endDate: genesisDate.optional(),
  importDate: genesisDate.optional(),
  scope: z.enum(CHARGEBACK_SCOPES),
  page: pageNumber.optional(),
  perPage: pageNumber.optional(),
});

export type ChargebacksByDateRequest = z.output<typeof chargebacksByDateRequestSchema>;

export function buildChargebacksByDateXml(request: ChargebacksByDateRequest): string {
  return writeGenesisXml('chargeback_request', request);
}

// ---------------------------------------------------------------------------------------------
// Responses

const text = z.string().optional();

const paymentResponseSchema = z.object({
  transactionType: text,
  status: z.string().min(1),
  mode: text,
  transactionId: text,
  uniqueId: text,
  /** Only on errors and some declines. */
  code: text,
  technicalMessage: text,
  message: text,
  timestamp: text,
  descriptor: text,
  amount: minorUnits.optional(),
  currency: text,
  sentToAcquirer: booleanText.optional(),
  redirectUrl: text,
  referenceTransactionUniqueId: text,
  /** In WPF reconcile's payment transactions: which terminal processed it. */
  terminalToken: text,
  /** On reconcile answers (dev/genesis/fixtures/ref-reconcile-*). For SDD, the debtor's IBAN and BIC. */
  bankAccountNumber: text,
  bankIdentifierCode: text,
  customerEmail: text,
  billingCountry: text,
  usage: text,
});

/** A transaction as Genesis reports it, from a sale, a reconcile or a by-date page. */
export type PaymentResponse = z.output<typeof paymentResponseSchema>;

const paginationSchema = z.object({
  page: counter,
  perPage: counter,
  totalCount: counter,
  pagesCount: counter,
});

export type GenesisPagination = z.output<typeof paginationSchema>;

const chargebackRecordSchema = z
  .object({
    type: text,
    arn: text,
    postDate: text,
    importDate: text,
    reasonCode: text,
    reasonDescription: text,
    /** Signed minor units: negative where the record takes money from the merchant. */
    amount: signedMinorUnits.optional(),
    currency: text,
    /** Decimals in major units, as the issuer reported them (300.0, 148.5). */
    chargebackAmount: text,
    chargebackCurrency: text,
    originalTransactionAmount: text,
    originalTransactionCurrency: text,
    originalType: text,
    originalPostDate: text,
    originalTransactionDate: text,
    customerEmail: text,
    customerPhone: text,
    transactionType: text,
    /** The original transaction's unique_id: the key that ties a chargeback to a debit. */
    originalTransactionUniqueId: text,
  })
  .transform((record, context) => {
    const minor = (field: 'chargebackAmount' | 'originalTransactionAmount', currency: string | undefined) => {
      const value = record[field];
      if (value === undefined) return undefined;
      const amount = majorToMinorUnits(value, currency);
      if (amount === undefined) context.addIssue({ code: 'custom', path: [field], message: 'must be a decimal amount in major units' });
      return amount;
    };
    return {
      ...record,
      /** Minor units, converted from the decimal the API reports. */
      chargebackAmount: minor('chargebackAmount', record.chargebackCurrency ?? record.currency),
      originalTransactionAmount: minor('originalTransactionAmount', record.originalTransactionCurrency ?? record.currency),
    };
  });

export type ChargebackRecord = z.output<typeof chargebackRecordSchema>;

const wpfPaymentSchema = z.object({
  status: z.string().min(1),
  uniqueId: text,
  transactionId: text,
  amount: minorUnits.optional(),
  currency: text,
  timestamp: text,
});

/** A Web Payment Form as WPF reconcile reports it, with its payment transactions. */
export type WpfPayment = z.output<typeof wpfPaymentSchema> & { payments: PaymentResponse[] };

const errorDetailsSchema = z.object({
  code: text,
  message: text,
  technicalMessage: text,
  transactionId: text,
});

export type GenesisErrorDetails = z.output<typeof errorDetailsSchema>;

/**
 * Every answer Genesis gives on the XML APIs Tether uses. `error` is a refused request
 * (status error without a unique_id: bad input, unknown transaction, bad credentials); a
 * transaction that exists but ended in status error is a `payment`.
 */
export type GenesisResponse =
  | { kind: 'payment'; payment: PaymentResponse }
  | { kind: 'payments'; pagination: GenesisPagination; payments: PaymentResponse[] }
  | { kind: 'chargeback'; chargeback: ChargebackRecord }
  | { kind: 'chargebacks'; pagination: GenesisPagination; chargebacks: ChargebackRecord[]; unusable?: UnusableRecord[] }
  | { kind: 'wpf'; wpf: WpfPayment }
  | { kind: 'error'; root: 'payment_response' | 'chargeback_response' | 'wpf_payment'; error: GenesisErrorDetails };

/** A record of a page that could not be read: it is reported, and never hides the page's other records. */
export interface UnusableRecord {
  /** Its position on the page, from 0. */
  index: number;
  error: string;
  /** The ids that tell an operator which record it is, where they could be read. */
  originalTransactionUniqueId?: string;
  arn?: string;
}

function readRecords(items: unknown[]): { chargebacks: ChargebackRecord[]; unusable?: UnusableRecord[] } {
  const chargebacks: ChargebackRecord[] = [];
  const unusable: UnusableRecord[] = [];
  items.forEach((item, index) => {
    try {
      chargebacks.push(parseWith(chargebackRecordSchema, 'chargeback_response', item));
    } catch (error) {
      const fields = (typeof item === 'object' && item !== null ? item : {}) as Fields;
      const id = (value: unknown) => (typeof value === 'string' ? value : undefined);
      unusable.push({
        index,
        error: (error as Error).message,
        originalTransactionUniqueId: id(fields.originalTransactionUniqueId),
        arn: id(fields.arn),
      });
    }
  });
  return { chargebacks, unusable };
}

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export function parseGenesisResponse(xml: string): GenesisResponse {
  const { root, fields } = readGenesisXml(xml);
  switch (root) {
    case 'payment_response':
    case 'chargeback_response':
      if (fields.status === 'error' && !fields.uniqueId) {
        return { kind: 'error', root, error: parseWith(errorDetailsSchema, root, fields) };
      }
      return root === 'payment_response'
        ? { kind: 'payment', payment: parseWith(paymentResponseSchema, root, fields) }
        : { kind: 'chargeback', chargeback: parseWith(chargebackRecordSchema, root, fields) };
    case 'wpf_payment': {
      if (fields.status === 'error' && !fields.uniqueId) return { kind: 'error', root, error: parseWith(errorDetailsSchema, root, fields) };
      const { paymentTransaction, ...form } = fields;
      return {
        kind: 'wpf',
        wpf: {
          ...parseWith(wpfPaymentSchema, root, form),
          payments: asList(paymentTransaction).map((item) => parseWith(paymentResponseSchema, 'payment_transaction', item)),
        },
      };
    }
    case 'payment_responses':
      return {
        kind: 'payments',
        pagination: parseWith(paginationSchema, root, fields[ATTRIBUTES]),
        payments: asList(fields.paymentResponse).map((item) => parseWith(paymentResponseSchema, 'payment_response', item)),
      };
    case 'chargeback_responses':
      return {
        kind: 'chargebacks',
        pagination: parseWith(paginationSchema, root, fields[ATTRIBUTES]),
        ...readRecords(asList(fields.chargebackResponse)),
      };
    default:
      throw new GenesisXmlError(`unexpected root element <${root}>`);
  }
}

/** A record as the API writes it: the issuer's amounts back to major-unit decimals. */
function chargebackRecordXml(record: ChargebackRecord): object {
  const major = (amount: number | undefined, currency: string | undefined) =>
    amount === undefined ? undefined : minorToMajorUnits(amount, currency);
  return {
    ...record,
    chargebackAmount: major(record.chargebackAmount, record.chargebackCurrency ?? record.currency),
    originalTransactionAmount: major(record.originalTransactionAmount, record.originalTransactionCurrency ?? record.currency),
  };
}

/** The inverse of parseGenesisResponse, for the simulator. */
export function buildGenesisResponseXml(response: GenesisResponse): string {
  switch (response.kind) {
    case 'payment':
      return writeGenesisXml('payment_response', response.payment);
    case 'payments':
      return writeGenesisXml('payment_responses', { [ATTRIBUTES]: response.pagination, paymentResponse: response.payments });
    case 'chargeback':
      return writeGenesisXml('chargeback_response', chargebackRecordXml(response.chargeback));
    case 'chargebacks':
      return writeGenesisXml('chargeback_responses', {
        [ATTRIBUTES]: response.pagination,
        chargebackResponse: response.chargebacks.map(chargebackRecordXml),
      });
    case 'wpf': {
      const { payments, ...form } = response.wpf;
      return writeGenesisXml('wpf_payment', { ...form, paymentTransaction: payments });
    }
    case 'error':
      return writeGenesisXml(response.root, { status: 'error', ...response.error });
  }
}

// ---------------------------------------------------------------------------------------------
// Notification echo

/** Reads a merchant's answer to a notification; undefined unless it is a notification_echo with an id. */
export function parseNotificationEcho(xml: string): Pick<NotificationIdentity, 'kind' | 'id'> | undefined {
  let document: GenesisXmlDocument;
  try {
    document = readGenesisXml(xml);
  } catch {
    return undefined;
  }
  if (document.root !== 'notification_echo') return undefined;
  for (const kind of NOTIFICATION_KINDS) {
    const id = document.fields[toCamel(notificationIdElement(kind))];
    if (typeof id === 'string') return { kind, id };
  }
  return undefined;
}
