import { describe, expect, it } from 'vitest';
import { ATTEMPT_STATUSES, decideTransition } from '../src/attempt-status';
import { attemptStatusFromGenesis } from '../src/genesis-meaning';

describe('attempt status transitions', () => {
  it.each([
    ['pending', 'sending'],
    ['sending', 'approved'],
    ['sending', 'unknown'],
    ['unknown', 'pending'],
    ['unknown', 'approved'],
    ['submitted', 'approved'],
    ['approved', 'chargebacked'],
    ['approved', 'error'],
    ['chargebacked', 'chargeback_reversed'],
    ['chargeback_reversed', 'chargebacked'],
    ['refunded', 'chargebacked'],
  ] as const)('apply %s → %s', (from, to) => {
    expect(decideTransition(from, to)).toEqual({ kind: 'apply', from, to });
  });

  it.each([
    ['chargebacked', 'approved'],
    ['approved', 'submitted'],
    ['declined', 'submitted'],
    // SEPA can reject an approved debit before settlement, so an approval arriving after the decline is late.
    ['declined', 'approved'],
    ['chargeback_reversed', 'approved'],
    ['approved', 'sending'],
  ] as const)('call a late %s ← %s stale', (from, to) => {
    expect(decideTransition(from, to).kind).toBe('stale');
  });

  it.each([
    ['declined', 'chargebacked'],
    ['error', 'refunded'],
    ['cancelled', 'approved'],
    ['voided', 'chargebacked'],
    ['pending', 'approved'],
  ] as const)('refuse %s → %s as illegal', (from, to) => {
    expect(decideTransition(from, to).kind).toBe('illegal');
  });

  it('report a repeated status as unchanged', () => {
    for (const status of ATTEMPT_STATUSES) expect(decideTransition(status, status)).toEqual({ kind: 'unchanged', status });
  });

  it('never lets a final outcome move back to an earlier stage', () => {
    const early = ['pending', 'sending', 'unknown', 'submitted'] as const;
    for (const from of ['approved', 'declined', 'error', 'voided', 'refunded', 'chargebacked'] as const) {
      for (const to of early) expect(decideTransition(from, to).kind).not.toBe('apply');
    }
  });
});

describe('Genesis statuses', () => {
  it.each([
    ['approved', 'approved'],
    ['pending_async', 'submitted'],
    ['chargebacked', 'chargebacked'],
    ['second_chargebacked', 'chargebacked'],
    ['chargeback_reversal', 'chargeback_reversed'],
    ['unsuccessful', 'error'],
    [' Declined ', 'declined'],
  ])('map %s to %s', (genesis, status) => {
    expect(attemptStatusFromGenesis(genesis)).toBe(status);
  });

  it('say nothing for states unrelated to a debit', () => {
    expect(attemptStatusFromGenesis('new')).toBeUndefined();
    expect(attemptStatusFromGenesis('')).toBeUndefined();
  });
});
