/**
 * One row of a debtor file, checked field by field. Every problem of a row is reported (not only
 * the first), each with the field, the value as written and a message an operator can act on.
 */
import { z } from 'zod';
import { AMOUNT_ERRORS, parseAmountCents, SEPA_AMOUNT_LIMITS, type AmountLimits } from './amount';
import type { DebtorField } from './debtor-columns';
import { BIC_ERRORS, checkBic, checkIban, IBAN_ERRORS } from './iban';
import { isSepaText, toSepaText } from './sepa-text';

/** A cell as read from CSV (text) or XLSX (text, number, date, boolean). */
export type CellValue = string | number | boolean | Date | null | undefined;

export type DebtorCells = Partial<Record<DebtorField, CellValue>>;

export interface DebtorAddress {
  street?: string;
  postalCode?: string;
  city?: string;
  country?: string;
}

export interface ValidDebtorRow {
  /** Electronic format. */
  iban: string;
  bic?: string;
  /** In the SEPA character set. */
  name: string;
  /** As written in the file, for display. */
  nameOriginal: string;
  amountCents: number;
  email?: string;
  address?: DebtorAddress;
  mandateReference?: string;
  /** YYYY-MM-DD */
  mandateDate?: string;
  externalReference?: string;
}

const FIELD_ERRORS = {
  name_missing: 'Name is missing',
  name_unmappable_characters: 'Name contains characters outside the SEPA character set with no transliteration',
  name_too_long: 'Name is longer than 70 characters',
  email_invalid: 'E-mail address is not valid',
  address_too_long: 'Address field is longer than 70 characters',
  mandate_reference_invalid: "Mandate reference may use only letters, digits, spaces and / - ? : ( ) . , ' +",
  mandate_reference_too_long: 'Mandate reference is longer than 35 characters',
  mandate_reference_slashes: 'Mandate reference must not start with "/" or contain "//"',
  mandate_date_invalid: 'Mandate date is not a date (use YYYY-MM-DD or DD.MM.YYYY)',
  mandate_date_in_future: 'Mandate date is in the future',
  external_reference_too_long: 'External reference is longer than 140 characters',
} as const;

export const ROW_ERRORS = { ...IBAN_ERRORS, ...BIC_ERRORS, ...AMOUNT_ERRORS, ...FIELD_ERRORS };

export type RowErrorCode = keyof typeof ROW_ERRORS;

export interface FieldError {
  field: DebtorField;
  /** The cell as written, so the operator finds it in the file. */
  value: string;
  code: RowErrorCode;
  message: string;
}

export type RowValidation = { ok: true; row: ValidDebtorRow } | { ok: false; errors: FieldError[] };

export interface RowRules {
  amountLimits?: AmountLimits;
  /** Mandate dates after this day are refused. */
  today?: Date;
}

const EMAIL = z.email();
const MAX_NAME = 70;
const MAX_ADDRESS_FIELD = 70;
const MAX_MANDATE_REFERENCE = 35;
const MAX_EXTERNAL_REFERENCE = 140;

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

// A file's rows share one `today`: its YYYY-MM-DD is worked out once, not once per row.
let lastToday: { date: Date; day: string } | undefined;
function dayOf(today: Date): string {
  if (lastToday?.date !== today) lastToday = { date: today, day: isoDay(today) };
  return lastToday.day;
}

export function cellText(value: CellValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : isoDay(value);
  return String(value).trim();
}

/** YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY (the European order), or a spreadsheet date. */
function parseDay(value: CellValue): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : isoDay(value);
  const text = cellText(value);
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  const european = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/.exec(text);
  const [year, month, day] = iso ? [iso[1], iso[2], iso[3]] : european ? [european[3], european[2], european[1]] : [];
  if (!year || !month || !day) return undefined;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  // Date.UTC rolls 31.02 over into March; a real day survives the round trip.
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined;
  return `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

class RowChecker {
  readonly errors: FieldError[] = [];

  constructor(private readonly cells: DebtorCells) {}

  text(field: DebtorField): string {
    return cellText(this.cells[field]);
  }

  fail(field: DebtorField, code: RowErrorCode, message: string = ROW_ERRORS[code]): undefined {
    this.errors.push({ field, value: this.text(field), code, message });
    return undefined;
  }

  iban(today: Date): string | undefined {
    const checked = checkIban(this.text('iban'), today);
    return checked.ok ? checked.value : this.fail('iban', checked.code, checked.message);
  }

  bic(): string | undefined {
    const text = this.text('bic');
    if (text === '') return undefined;
    const checked = checkBic(text);
    return checked.ok ? checked.value : this.fail('bic', checked.code, checked.message);
  }

  name(): string | undefined {
    const original = this.text('name');
    if (original === '') return this.fail('name', 'name_missing');
    const sepa = toSepaText(original);
    if (!sepa.ok) {
      const characters = sepa.unmappable.map((character) => `"${character}"`).join(' ');
      return this.fail('name', 'name_unmappable_characters', `${ROW_ERRORS.name_unmappable_characters}: ${characters}`);
    }
    return sepa.text.length > MAX_NAME ? this.fail('name', 'name_too_long') : sepa.text;
  }

  amount(limits: AmountLimits): number | undefined {
    const value = this.cells.amount;
    const parsed = parseAmountCents(typeof value === 'number' ? value : this.text('amount'), limits);
    return parsed.ok ? parsed.cents : this.fail('amount', parsed.code, parsed.message);
  }

  email(): string | undefined {
    const text = this.text('email');
    if (text === '') return undefined;
    return EMAIL.safeParse(text).success ? text : this.fail('email', 'email_invalid');
  }

  address(): DebtorAddress | undefined {
    const parts: [keyof DebtorAddress, DebtorField][] = [
      ['street', 'street'],
      ['postalCode', 'postal_code'],
      ['city', 'city'],
      ['country', 'country'],
    ];
    const address: DebtorAddress = {};
    for (const [key, field] of parts) {
      const text = this.text(field);
      if (text === '') continue;
      if (text.length > MAX_ADDRESS_FIELD) this.fail(field, 'address_too_long');
      else address[key] = text;
    }
    return Object.keys(address).length > 0 ? address : undefined;
  }

  mandateReference(): string | undefined {
    const text = this.text('mandate_reference');
    if (text === '') return undefined;
    if (!isSepaText(text)) return this.fail('mandate_reference', 'mandate_reference_invalid');
    if (text.length > MAX_MANDATE_REFERENCE) return this.fail('mandate_reference', 'mandate_reference_too_long');
    if (text.startsWith('/') || text.includes('//')) return this.fail('mandate_reference', 'mandate_reference_slashes');
    return text;
  }

  mandateDate(today: string): string | undefined {
    if (this.text('mandate_date') === '') return undefined;
    const day = parseDay(this.cells.mandate_date);
    if (day === undefined) return this.fail('mandate_date', 'mandate_date_invalid');
    return day > today ? this.fail('mandate_date', 'mandate_date_in_future') : day;
  }

  externalReference(): string | undefined {
    const text = this.text('external_reference');
    if (text === '') return undefined;
    return text.length > MAX_EXTERNAL_REFERENCE ? this.fail('external_reference', 'external_reference_too_long') : text;
  }
}

export function validateDebtorRow(cells: DebtorCells, rules: RowRules = {}): RowValidation {
  const today = rules.today ?? new Date();
  const check = new RowChecker(cells);
  const row = {
    iban: check.iban(today),
    bic: check.bic(),
    name: check.name(),
    nameOriginal: check.text('name'),
    amountCents: check.amount(rules.amountLimits ?? SEPA_AMOUNT_LIMITS),
    email: check.email(),
    address: check.address(),
    mandateReference: check.mandateReference(),
    mandateDate: check.mandateDate(dayOf(today)),
    externalReference: check.externalReference(),
  };
  if (check.errors.length > 0 || row.iban === undefined || row.name === undefined || row.amountCents === undefined) {
    return { ok: false, errors: check.errors };
  }
  return { ok: true, row: { ...row, iban: row.iban, name: row.name, amountCents: row.amountCents } };
}
