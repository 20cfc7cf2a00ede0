import { describe, expect, it } from 'vitest';
import { validateDebtorRow } from '../src/debtor-row';

const today = new Date('2026-06-15T10:00:00Z');
const valid = { iban: 'DE89 3704 0044 0532 0130 00', name: 'Jürgen Müller', amount: '12,50' };

describe('validateDebtorRow', () => {
  it('normalises a valid row and keeps the original name', () => {
    expect(
      validateDebtorRow(
        { ...valid, bic: 'cobadeffxxx', email: 'j@example.com', street: 'Hauptstr. 1', city: 'Köln', mandate_reference: 'MR-2026/001', mandate_date: '01.02.2026', external_reference: 'C-17' },
        { today },
      ),
    ).toEqual({
      ok: true,
      row: {
        iban: 'DE89370400440532013000',
        bic: 'COBADEFFXXX',
        name: 'Juergen Mueller',
        nameOriginal: 'Jürgen Müller',
        amountCents: 1250,
        email: 'j@example.com',
        address: { street: 'Hauptstr. 1', city: 'Köln' },
        mandateReference: 'MR-2026/001',
        mandateDate: '2026-02-01',
        externalReference: 'C-17',
      },
    });
  });

  it('reports every broken field of a row with its value', () => {
    const result = validateDebtorRow(
      { iban: 'DE00 1234', name: 'Ωmega', amount: '12,345', bic: 'XX', email: 'nope', mandate_reference: '/M//1', mandate_date: '31.02.2026' },
      { today },
    );
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map(({ field, code, value }) => [field, code, value])).toEqual([
      ['iban', 'iban_wrong_length', 'DE00 1234'],
      ['bic', 'bic_wrong_format', 'XX'],
      ['name', 'name_unmappable_characters', 'Ωmega'],
      ['amount', 'amount_ambiguous', '12,345'],
      ['email', 'email_invalid', 'nope'],
      ['mandate_reference', 'mandate_reference_slashes', '/M//1'],
      ['mandate_date', 'mandate_date_invalid', '31.02.2026'],
    ]);
  });

  it('requires IBAN, name and amount', () => {
    const result = validateDebtorRow({ iban: '', name: ' ', amount: null }, { today });
    expect(result.ok ? [] : result.errors.map((error) => error.code)).toEqual(['iban_missing', 'name_missing', 'amount_missing']);
  });

  it('takes spreadsheet numbers and dates', () => {
    const result = validateDebtorRow({ ...valid, amount: 99.99, mandate_date: new Date(Date.UTC(2025, 11, 24)) }, { today });
    expect(result).toMatchObject({ ok: true, row: { amountCents: 9999, mandateDate: '2025-12-24' } });
  });

  it('refuses a mandate signed in the future, a name too long and an amount above the cap', () => {
    const result = validateDebtorRow(
      { ...valid, name: 'A'.repeat(71), mandate_date: '2026-06-16', amount: '500,00' },
      { today, amountLimits: { minCents: 1, maxCents: 10_000 } },
    );
    expect(result.ok ? [] : result.errors.map((error) => error.code)).toEqual(['name_too_long', 'amount_above_maximum', 'mandate_date_in_future']);
  });

  it('refuses a mandate reference outside the SEPA set or longer than 35', () => {
    expect(validateDebtorRow({ ...valid, mandate_reference: 'MRÄ1' }, { today })).toMatchObject({ ok: false, errors: [{ code: 'mandate_reference_invalid' }] });
    expect(validateDebtorRow({ ...valid, mandate_reference: 'M'.repeat(36) }, { today })).toMatchObject({ ok: false, errors: [{ code: 'mandate_reference_too_long' }] });
  });
});
