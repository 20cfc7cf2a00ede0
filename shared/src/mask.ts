/**
 * Masking of personal data for logs and screens. IBANs keep country, check digits and the
 * last four characters; names keep their initials. Everything that reaches a log goes through
 * `maskPersonalData`, which knows the field names that carry such data.
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

/** Returns a copy of `value` that is safe to log: IBANs and names masked, contact data and secrets redacted. */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskPersonalData(item, depth + 1));
  const masked: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (typeof field === 'string' && IBAN_FIELDS.has(lower)) masked[key] = maskIban(field);
    else if (typeof field === 'string' && NAME_FIELDS.has(lower)) masked[key] = maskName(field);
    else if (REDACTED_FIELDS.has(lower)) masked[key] = '[redacted]';
    else masked[key] = maskPersonalData(field, depth + 1);
  }
  return masked;
}
