/**
 * Masking of personal data for logs and screens. IBANs keep country, check digits and the
 * last four characters; names keep their initials. Everything that reaches a log goes through
 * `maskPersonalData`, which knows the field names that carry such data and, as a safety net,
 * masks anything shaped like an IBAN in any other text.
 */

export function maskIban(iban: string): string {
  const compact = iban.replace(/\s+/g, '');
  if (compact.length <= 8) return '*'.repeat(compact.length);
  return `${compact.slice(0, 4)}${'*'.repeat(compact.length - 8)}${compact.slice(-4)}`;
}

export function maskName(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => `${part[0]}***`)
    .join(' ');
}

const IBAN_FIELDS = new Set(['iban', 'bank_account_number', 'debtor_iban']);
const NAME_FIELDS = new Set([
  'name',
  'first_name',
  'last_name',
  'account_holder',
  'card_holder',
  'debtor_name',
  'company_name',
]);
const REDACTED_FIELDS = new Set([
  'customer_email',
  'email',
  'customer_phone',
  'phone',
  'address1',
  'address2',
  'signature',
  'password',
  'authorization',
  'token',
]);

// Field names not listed above but following the same conventions (billing_first_name, payer_iban, …).
const isIbanField = (key: string) => IBAN_FIELDS.has(key) || key.endsWith('_iban');
const isNameField = (key: string) => NAME_FIELDS.has(key) || key.endsWith('_name') || key.endsWith('_holder');
const isRedactedField = (key: string) =>
  REDACTED_FIELDS.has(key) || key.endsWith('_email') || key.endsWith('_phone') || key.endsWith('_password');

/** Country, check digits, then 11–30 characters, written compact or in groups of four (upper case only, so hex ids pass). */
const IBAN_IN_TEXT = /\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)\b/g;

/** Whether free text holds an IBAN-shaped substring: what `maskIbansInText` would mask. */
export function containsIban(text: string): boolean {
  return new RegExp(IBAN_IN_TEXT.source).test(text);
}

/** Masks IBAN-shaped substrings of free text, e.g. a reason description that quotes the debtor's account. */
export function maskIbansInText(text: string): string {
  return text.replace(IBAN_IN_TEXT, maskIban);
}

/** Returns a copy of `value` that is safe to log: IBANs and names masked, contact data and secrets redacted. */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskIbansInText(value);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any log entry needs: dropping it is safer than logging it unmasked.
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.map((item) => maskPersonalData(item, depth + 1));
  // An Error's message and stack are not enumerable: copy them, or the log shows `{}`.
  if (value instanceof Error) {
    return maskPersonalData({ ...value, type: value.name, message: value.message, stack: value.stack }, depth + 1);
  }
  const masked: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (typeof field === 'string' && isIbanField(lower)) masked[key] = maskIban(field);
    else if (typeof field === 'string' && isNameField(lower)) masked[key] = maskName(field);
    else if (isRedactedField(lower)) masked[key] = '[redacted]';
    else masked[key] = maskPersonalData(field, depth + 1);
  }
  return masked;
}
