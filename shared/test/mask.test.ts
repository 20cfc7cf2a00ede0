import { describe, expect, it } from 'vitest';
import { maskIban, maskName, maskPersonalData } from '../src/mask';

describe('masking personal data', () => {
  it('keeps country, check digits and the last four of an IBAN', () => {
    expect(maskIban('DE89 3704 0044 0532 0130 00')).toBe('DE89**************3000');
  });

  it('keeps initials of a name', () => {
    expect(maskName('Travis  Pastrana')).toBe('T*** P***');
  });

  it('masks nested objects by field name and redacts secrets', () => {
    const masked = maskPersonalData({
      event: { iban: 'DE89370400440532013000', first_name: 'Travis', signature: 'abc', amount: '100' },
      rows: [{ name: 'Ada Lovelace' }],
    });
    expect(masked).toEqual({
      event: { iban: 'DE89**************3000', first_name: 'T***', signature: '[redacted]', amount: '100' },
      rows: [{ name: 'A*** L***' }],
    });
    expect(JSON.stringify(masked)).not.toContain('Travis');
  });
});

describe('masking personal data outside the known fields', () => {
  it('masks IBANs quoted in free text, compact or grouped', () => {
    expect(maskPersonalData({ rc_description: 'Debit from DE89370400440532013000 returned' })).toEqual({
      rc_description: 'Debit from DE89**************3000 returned',
    });
    expect(maskPersonalData('account DE89 3704 0044 0532 0130 00.')).toBe('account DE89**************3000.');
  });

  it('leaves ids, tokens and BICs readable', () => {
    const fields = {
      unique_id: '52775aed3ee5776c906aeba74da69612',
      terminal_token: 'e4de7c9d4ea4bccea3cac90190e2ea0be8ad7610',
      transaction_id: 'tm_api_1678195297',
      bank_identifier_code: 'PBNKDEFFXXX',
    };
    expect(maskPersonalData(fields)).toEqual(fields);
  });

  it('follows the naming conventions of unlisted fields', () => {
    expect(
      maskPersonalData({ billing_first_name: 'Travis', payer_iban: 'DE89370400440532013000', billing_email: 'a@b.c' }),
    ).toEqual({ billing_first_name: 'T***', payer_iban: 'DE89**************3000', billing_email: '[redacted]' });
  });

  it('drops what is nested deeper than a log entry needs', () => {
    let nested: unknown = { first_name: 'Travis' };
    for (let level = 0; level < 12; level++) nested = { nested };
    expect(JSON.stringify(maskPersonalData(nested))).not.toContain('Travis');
  });

  it('keeps an error readable, with IBANs in its message masked', () => {
    const masked = maskPersonalData({ err: new TypeError('bad debtor DE89370400440532013000') }) as {
      err: { type: string; message: string; stack: string };
    };
    expect(masked.err.type).toBe('TypeError');
    expect(masked.err.message).not.toContain('DE89370400440532013000');
    expect(masked.err.message).toMatch(/^bad debtor DE89/);
    expect(masked.err.stack).not.toContain('0532013000');
  });
});
