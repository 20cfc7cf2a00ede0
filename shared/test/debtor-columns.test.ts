import { describe, expect, it } from 'vitest';
import { headerKey, resolveColumns } from '../src/debtor-columns';

describe('resolveColumns', () => {
  it('recognises English headers', () => {
    expect(resolveColumns(['Name', 'IBAN', 'BIC', 'Amount', 'E-mail', 'Mandate reference'])).toEqual({
      ok: true,
      columns: { name: 0, iban: 1, bic: 2, amount: 3, email: 4, mandate_reference: 5 },
    });
  });

  it('recognises German headers with umlauts, ß and units', () => {
    const result = resolveColumns(['Kontoinhaber', 'IBAN', 'Betrag (EUR)', 'E-Mail-Adresse', 'Straße', 'PLZ', 'Ort', 'Mandatsreferenz', 'Mandatsdatum', 'Kundennummer', 'Länderkennzeichen']);
    expect(result).toEqual({
      ok: true,
      columns: {
        name: 0, iban: 1, amount: 2, email: 3, street: 4, postal_code: 5, city: 6,
        mandate_reference: 7, mandate_date: 8, external_reference: 9, country: 10,
      },
    });
  });

  it("prefers the operator's mapping and leaves unknown columns out", () => {
    expect(resolveColumns(['Konto', 'Wer', 'Summe', 'Notiz'], { iban: 'konto', name: 'Wer' })).toEqual({
      ok: true,
      columns: { iban: 0, name: 1, amount: 2 },
    });
  });

  it('does not let a recognised header take a field the operator mapped elsewhere', () => {
    expect(resolveColumns(['IBAN', 'Alt IBAN', 'Name', 'Amount'], { iban: 'Alt IBAN' })).toEqual({
      ok: true,
      columns: { iban: 1, name: 2, amount: 3 },
    });
  });

  it('names the missing required fields', () => {
    const result = resolveColumns(['Name', 'Notes']);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toMatch(/iban.*amount/);
  });

  it('refuses two columns for one field and a mapping to a column that is not there', () => {
    expect(resolveColumns(['IBAN', 'Name', 'Amount', 'Betrag'])).toMatchObject({ ok: false, message: expect.stringContaining('"Amount" and "Betrag"') });
    expect(resolveColumns(['IBAN', 'Name', 'Amount'], { amount: 'Sum' })).toMatchObject({ ok: false, message: expect.stringContaining('"Sum"') });
    expect(resolveColumns(['IBAN', 'Name', 'Amount'], { amount: 'Name', name: 'name' })).toMatchObject({ ok: false });
  });

  it('compares headers without case, accents or punctuation', () => {
    expect(headerKey(' E_Mail ')).toBe('email');
    expect(headerKey('Vollständiger Name')).toBe('vollstaendigername');
  });
});
