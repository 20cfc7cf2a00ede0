/**
 * THE IBAN and BIC rules of Tether (sepa-domain.md §6). ibantools checks structure, checksums
 * and national check digits; which countries SEPA reaches is Tether's own list, because
 * ibantools' `isSEPACountry` lags behind the EPC's enlargements.
 */
import { ValidationErrorsBIC, ValidationErrorsIBAN, validateBIC, validateIBAN } from 'ibantools';

/** The operational SEPA countries: EU27, the EEA, CH, GB, the micro-states and the 2024/25 joiners. */
const SEPA_COUNTRIES: ReadonlySet<string> = new Set([
  // EU27
  'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT',
  'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK',
  // EEA, Switzerland, United Kingdom, micro-states
  'IS', 'LI', 'NO', 'CH', 'GB', 'MC', 'SM', 'AD', 'VA',
  // Joined 2024/25, operational from October 2025
  'AL', 'ME', 'MD', 'MK',
  // ibantools flags Gibraltar as SEPA; kept (§6)
  'GI',
]);

/** Members that joined but take part only from their operational readiness date. */
const SEPA_COUNTRIES_FROM: Readonly<Record<string, string>> = { RS: '2026-05-01' };

export function isSepaCountry(countryCode: string, today: Date = new Date()): boolean {
  if (SEPA_COUNTRIES.has(countryCode)) return true;
  const from = SEPA_COUNTRIES_FROM[countryCode];
  return from !== undefined && today.toISOString().slice(0, 10) >= from;
}

export const IBAN_ERRORS = {
  iban_missing: 'IBAN is missing',
  iban_invalid_characters: 'IBAN may contain only letters and digits (spaces are ignored)',
  iban_unknown_country: 'IBAN does not start with a known country code',
  iban_wrong_length: 'IBAN has the wrong length for its country',
  iban_wrong_format: 'IBAN does not match the account format of its country',
  iban_wrong_checksum: 'IBAN check digits are wrong (typo?)',
  iban_wrong_national_checksum: 'IBAN bank or account check digits are wrong (typo?)',
  iban_qr_not_allowed: 'Swiss QR-IBANs are for QR bills and cannot be debited',
  iban_not_sepa: 'IBAN country is outside the SEPA area',
} as const;

export type IbanErrorCode = keyof typeof IBAN_ERRORS;

export const BIC_ERRORS = {
  bic_wrong_format: 'BIC must be 8 or 11 letters and digits (bank, country, location, branch)',
  bic_unknown_country: 'BIC does not contain a known country code',
} as const;

export type BicErrorCode = keyof typeof BIC_ERRORS;

export type Checked<Value, Code extends string> =
  | { ok: true; value: Value }
  | { ok: false; code: Code; message: string };

const IBAN_ERROR_BY_IBANTOOLS: Record<ValidationErrorsIBAN, IbanErrorCode> = {
  [ValidationErrorsIBAN.NoIBANProvided]: 'iban_missing',
  [ValidationErrorsIBAN.NoIBANCountry]: 'iban_unknown_country',
  [ValidationErrorsIBAN.WrongBBANLength]: 'iban_wrong_length',
  [ValidationErrorsIBAN.WrongBBANFormat]: 'iban_wrong_format',
  [ValidationErrorsIBAN.ChecksumNotNumber]: 'iban_wrong_checksum',
  [ValidationErrorsIBAN.WrongIBANChecksum]: 'iban_wrong_checksum',
  [ValidationErrorsIBAN.WrongAccountBankBranchChecksum]: 'iban_wrong_national_checksum',
  [ValidationErrorsIBAN.QRIBANNotAllowed]: 'iban_qr_not_allowed',
};

// ibantools reports every failed check; the operator is told the most basic one first.
const IBAN_ERROR_PRIORITY: readonly IbanErrorCode[] = [
  'iban_missing',
  'iban_unknown_country',
  'iban_wrong_length',
  'iban_wrong_format',
  'iban_wrong_checksum',
  'iban_wrong_national_checksum',
  'iban_qr_not_allowed',
];

function ibanError(code: IbanErrorCode): { ok: false; code: IbanErrorCode; message: string } {
  return { ok: false, code, message: IBAN_ERRORS[code] };
}

/** Electronic format: no whitespace (spreadsheets add non-breaking spaces too) or dashes, upper case. */
export function normaliseIban(input: string): string {
  return input.replace(/[\s-]+/g, '').toUpperCase();
}

/** A debitable IBAN in electronic format, or the first reason it is not one. */
export function checkIban(input: string, today: Date = new Date()): Checked<string, IbanErrorCode> {
  const iban = normaliseIban(input);
  if (iban === '') return ibanError('iban_missing');
  if (!/^[A-Z0-9]+$/.test(iban)) return ibanError('iban_invalid_characters');
  const result = validateIBAN(iban, { allowQRIBAN: false });
  if (!result.valid) {
    const codes = new Set(result.errorCodes.map((code) => IBAN_ERROR_BY_IBANTOOLS[code]));
    return ibanError(IBAN_ERROR_PRIORITY.find((code) => codes.has(code)) ?? 'iban_wrong_format');
  }
  if (!isSepaCountry(iban.slice(0, 2), today)) return ibanError('iban_not_sepa');
  return { ok: true, value: iban };
}

export function normaliseBic(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

export function checkBic(input: string): Checked<string, BicErrorCode> {
  const bic = normaliseBic(input);
  const result = validateBIC(bic);
  if (result.valid) return { ok: true, value: bic };
  // ibantools looks up the country before the length, so "DEUT" would read as an unknown country.
  const wellFormed = bic.length === 8 || bic.length === 11;
  const code = wellFormed && result.errorCodes.includes(ValidationErrorsBIC.NoBICCountry) ? 'bic_unknown_country' : 'bic_wrong_format';
  return { ok: false, code, message: BIC_ERRORS[code] };
}
