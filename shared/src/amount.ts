/**
 * Amounts as operators type them — "12,50", "12.50", "1.234,56", "1,234.56", "€ 12" — into
 * integer euro cents, within the SEPA limits (sepa-domain.md §6.1) or a lower cap.
 */

/** SEPA: 0.01 to 999,999,999.99 EUR. */
export const SEPA_AMOUNT_LIMITS = { minCents: 1, maxCents: 99_999_999_999 } as const;

export interface AmountLimits {
  minCents: number;
  maxCents: number;
}

/**
 * The longest amount text read: "999.999.999,99 EUR" is 18 characters, so 64 leaves room for
 * spaces and apostrophes while a hostile cell (a spreadsheet cell holds 32 K characters, a CSV
 * cell more) is refused before any pattern looks at it.
 */
const MAX_AMOUNT_TEXT = 64;

export const AMOUNT_ERRORS = {
  amount_missing: 'Amount is missing',
  amount_too_long: `Amount is too long (more than ${MAX_AMOUNT_TEXT} characters)`,
  amount_not_a_number: 'Amount is not a number (use digits with a comma or dot for cents, e.g. 12,50)',
  amount_too_many_decimals: 'Amount has more than 2 decimals',
  amount_ambiguous: 'Amount is ambiguous: write 1234 or 1.234,00 for one thousand two hundred thirty-four',
  amount_not_positive: 'Amount must be greater than zero',
  amount_below_minimum: 'Amount is below the minimum',
  amount_above_maximum: 'Amount is above the maximum',
} as const;

export type AmountErrorCode = keyof typeof AMOUNT_ERRORS;

export type ParsedAmount = { ok: true; cents: number } | { ok: false; code: AmountErrorCode; message: string };

function failure(code: AmountErrorCode, detail = ''): ParsedAmount {
  return { ok: false, code, message: AMOUNT_ERRORS[code] + detail };
}

function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

function withinLimits(cents: number, limits: AmountLimits): ParsedAmount {
  if (cents <= 0) return failure('amount_not_positive');
  if (cents < limits.minCents) return failure('amount_below_minimum', ` (${formatCents(limits.minCents)} EUR)`);
  if (cents > limits.maxCents) return failure('amount_above_maximum', ` (${formatCents(limits.maxCents)} EUR)`);
  return { ok: true, cents };
}

/**
 * Groups of three after one kind of separator are thousands; the other separator, followed by
 * one or two digits, is the decimal one. "1.234" alone is refused: it is 1234 euros in a German
 * file and 1.234 in a file with three decimals, and guessing wrong debits a thousand times over.
 */
const AMOUNT_TEXT = /^(?:(\d{1,3}(?:([.,])\d{3}(?:\2\d{3})*)?)|(\d+))(?:([.,])(\d+))?$/;

const CURRENCIES = ['€', 'EUR'];

/**
 * The text without a leading and a trailing currency (either, both, or none). String methods,
 * not a pattern: /\s*(€|EUR)$/ retries the spaces from every position, quadratic on a run of them.
 */
function withoutCurrency(text: string): string {
  let rest = text;
  const leading = CURRENCIES.find((currency) => rest.slice(0, currency.length).toUpperCase() === currency);
  if (leading) rest = rest.slice(leading.length).trimStart();
  const trailing = CURRENCIES.find((currency) => rest.slice(-currency.length).toUpperCase() === currency);
  if (trailing) rest = rest.slice(0, -trailing.length).trimEnd();
  return rest;
}

function parseText(text: string): { integer: string; fraction: string } | AmountErrorCode {
  const compact = withoutCurrency(text).replace(/[\s']/g, '');
  const match = AMOUNT_TEXT.exec(compact);
  if (!match) return compact.startsWith('-') ? 'amount_not_positive' : 'amount_not_a_number';
  const [, grouped, thousands, plain, decimalSeparator, fraction = ''] = match;
  const integer = (grouped ?? plain ?? '').replace(/[.,]/g, '');
  if (decimalSeparator !== undefined && decimalSeparator === thousands) return 'amount_not_a_number';
  if (thousands !== undefined && decimalSeparator === undefined && /^\d{1,3}[.,]\d{3}$/.test(compact)) return 'amount_ambiguous';
  if (fraction.length > 2) return 'amount_too_many_decimals';
  return { integer, fraction };
}

export function parseAmountCents(value: string | number, limits: AmountLimits = SEPA_AMOUNT_LIMITS): ParsedAmount {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return failure('amount_not_a_number');
    const cents = Math.round(value * 100);
    // Spreadsheet numbers are binary floats: 12.34 * 100 is 1233.9999999999998, not a third decimal.
    if (Math.abs(cents - value * 100) > 1e-6 * Math.max(1, Math.abs(value))) return failure('amount_too_many_decimals');
    return withinLimits(cents, limits);
  }
  const text = value.trim();
  if (text === '') return failure('amount_missing');
  if (text.length > MAX_AMOUNT_TEXT) return failure('amount_too_long');
  const parsed = parseText(text);
  if (typeof parsed === 'string') return failure(parsed);
  const cents = Number(parsed.integer) * 100 + Number(parsed.fraction.padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) return failure('amount_above_maximum', ` (${formatCents(limits.maxCents)} EUR)`);
  return withinLimits(cents, limits);
}
