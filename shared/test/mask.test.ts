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
