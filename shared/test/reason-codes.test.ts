import { describe, expect, it } from 'vitest';
import { DEFAULT_BLACKLIST_CODES, reasonCodePolicy } from '../src/reason-codes';

describe('the default reason-code policy', () => {
  it.each(['AC04', 'AC06', 'AG01', 'MD01', 'MD06', 'MD07', 'MS02', 'SL01'])('blacklists after %s', (code) => {
    expect(reasonCodePolicy(code).action).toBe('blacklist');
  });

  it.each(['AM04', 'MS03'])('retries after %s (insufficient funds), never blacklists', (code) => {
    expect(reasonCodePolicy(code)).toMatchObject({ class: 'insufficient_funds', action: 'retry' });
  });

  it.each(['AC01', 'RR04', 'BE05', 'FOCR', 'ZZ99'])('does neither after %s', (code) => {
    expect(reasonCodePolicy(code).action).toBe('neither');
  });

  it('sends compliance, bad data, unauthorised and unknown codes to a person', () => {
    expect(reasonCodePolicy('RR04').review).toBe(true);
    expect(reasonCodePolicy('AC01').review).toBe(true);
    expect(reasonCodePolicy('MD01').review).toBe(true);
    expect(reasonCodePolicy('XX01')).toMatchObject({ class: 'unknown', review: true });
    expect(reasonCodePolicy('AM04').review).toBe(false);
  });

  it('reads codes case- and space-insensitively', () => {
    expect(reasonCodePolicy(' md06 ')).toMatchObject({ code: 'MD06', action: 'blacklist' });
  });

  it('derives the default blacklist from the classes', () => {
    // 696: Genesis itself refuses the IBAN (blacklisted at EMP), so sending again is pointless.
    expect(DEFAULT_BLACKLIST_CODES).toEqual(['696', 'AC04', 'AC06', 'AG01', 'MD01', 'MD06', 'MD07', 'MS02', 'SL01']);
  });

  it('classes Genesis\' own IBAN-blacklisted decline with the codes that blacklist', () => {
    expect(reasonCodePolicy('696')).toEqual({ code: '696', class: 'blocked_by_emp', action: 'blacklist', review: false });
  });
});
