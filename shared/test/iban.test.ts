import { describe, expect, it } from 'vitest';
import { checkBic, checkIban, isSepaCountry, normaliseIban } from '../src/iban';

/** An IBAN with correct ISO 7064 check digits for any BBAN, to break only the national rules. */
function withIbanCheckDigits(country: string, bban: string): string {
  const digits = `${bban}${country}00`.replace(/[A-Z]/g, (letter) => String(letter.charCodeAt(0) - 55));
  const remainder = [...digits].reduce((rest, digit) => (rest * 10 + Number(digit)) % 97, 0);
  return `${country}${String(98 - remainder).padStart(2, '0')}${bban}`;
}

describe('checkIban', () => {
  it('accepts SEPA IBANs in print format and normalises them', () => {
    expect(checkIban('de89 3704 0044 0532 0130 00')).toEqual({ ok: true, value: 'DE89370400440532013000' });
    expect(checkIban('FR14 2004 1010 0505 0001 3M02 606')).toEqual({ ok: true, value: 'FR1420041010050500013M02606' });
    expect(checkIban('GB29\u00a0NWBK\u00a060161331926819').ok).toBe(true);
    expect(checkIban('AL47 2121 1009 0000 0002 3569 8741').ok).toBe(true);
    expect(checkIban('GI75NWBK000000007099453').ok).toBe(true);
  });

  it.each([
    ['', 'iban_missing'],
    ['DE89-3704-0044-0532-0130-0!', 'iban_invalid_characters'],
    ['XX89370400440532013000', 'iban_unknown_country'],
    ['DE8937040044053201300', 'iban_wrong_length'],
    ['DE89370400440532013001', 'iban_wrong_checksum'],
    ['TR330006100519786457841326', 'iban_not_sepa'],
    ['CH4431999123000889012', 'iban_qr_not_allowed'],
  ])('refuses %s with %s', (input, code) => {
    const result = checkIban(input);
    expect(result).toMatchObject({ ok: false, code });
    expect(result.ok ? '' : result.message).not.toBe('');
  });

  it('refuses a wrong national check digit even when the IBAN checksum is right', () => {
    const iban = withIbanCheckDigits('BE', '539007547035');
    expect(checkIban(iban)).toMatchObject({ ok: false, code: 'iban_wrong_national_checksum' });
    expect(checkIban(withIbanCheckDigits('BE', '539007547034')).ok).toBe(true);
  });

  it('refuses a BBAN that breaks the country structure', () => {
    expect(checkIban(withIbanCheckDigits('DE', '37040044053201300A'))).toMatchObject({ code: 'iban_wrong_format' });
  });

  it('takes Serbia from its operational date', () => {
    expect(isSepaCountry('RS', new Date('2026-04-30T12:00:00Z'))).toBe(false);
    expect(isSepaCountry('RS', new Date('2026-05-01T00:00:00Z'))).toBe(true);
    expect(checkIban('RS35260005601001611379', new Date('2026-01-01'))).toMatchObject({ code: 'iban_not_sepa' });
  });

  it('normalises without touching the content', () => {
    expect(normaliseIban(' de89 3704-0044 ')).toBe('DE8937040044');
  });
});

describe('checkBic', () => {
  it('accepts 8 and 11 characters, normalised', () => {
    expect(checkBic('deut de ff')).toEqual({ ok: true, value: 'DEUTDEFF' });
    expect(checkBic('DEUTDEFF500')).toEqual({ ok: true, value: 'DEUTDEFF500' });
  });

  it('tells a malformed BIC from an unknown country', () => {
    expect(checkBic('DEUT')).toMatchObject({ ok: false, code: 'bic_wrong_format' });
    expect(checkBic('DEUTXXFF')).toMatchObject({ ok: false, code: 'bic_unknown_country' });
  });
});
