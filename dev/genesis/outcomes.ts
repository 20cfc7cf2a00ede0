/**
 * What becomes of an accepted sdd_sale: the synchronous status, an optional later status change
 * before settlement (a SEPA reject), and an optional chargeback with a SEPA reason code.
 * Rules match first; otherwise a random stream seeded by (seed, transaction_id) decides, so the
 * same transaction_id always meets the same fate whatever the arrival order.
 */
import type { SddSaleRequest } from '@tether/shared/genesis-xml';
import { GENESIS_ERROR_CODES } from '@tether/shared/genesis-codes';
import { z } from 'zod';
import { randomFor } from './random';

export const SALE_STATUSES = ['approved', 'declined', 'error', 'pending_async'] as const;
export type SaleStatus = (typeof SALE_STATUSES)[number];
const finalStatus = z.enum(['approved', 'declined', 'error']);
const delay = z.number().int().min(0);

export const saleOutcomeSchema = z.object({
  status: z.enum(SALE_STATUSES),
  /** Genesis code for declines and errors; 500 and 900 by default. */
  code: z.string().optional(),
  /** A later status change, e.g. approved → error when the debtor bank rejects before settlement. */
  later: z.object({ status: finalStatus, code: z.string().optional(), afterMs: delay }).optional(),
  /** A chargeback (SEPA return or refund) on the approved sale. */
  chargeback: z.object({ reasonCode: z.string().min(1), afterMs: delay }).optional(),
});

export type SaleOutcome = z.infer<typeof saleOutcomeSchema>;

const rate = z.number().min(0).max(1);

export const outcomePolicySchema = z.object({
  /** First match wins; every given criterion must match. */
  rules: z
    .array(
      z.object({
        iban: z.string().optional(),
        amount: z.number().int().optional(),
        transactionIdPrefix: z.string().optional(),
        outcome: saleOutcomeSchema,
      }),
    )
    .optional(),
  random: z
    .object({
      declineRate: rate.optional(),
      errorRate: rate.optional(),
      /** Fraction of approved sales charged back later. */
      chargebackRate: rate.optional(),
      chargebackReasonCodes: z.array(z.string().min(1)).min(1).optional(),
      chargebackAfterMs: delay.optional(),
    })
    .optional(),
});

export type OutcomePolicy = z.infer<typeof outcomePolicySchema>;
type OutcomeRule = NonNullable<OutcomePolicy['rules']>[number];

export const DEFAULT_CODES: Record<Exclude<SaleStatus, 'approved' | 'pending_async'>, string> = {
  declined: GENESIS_ERROR_CODES.issuerDecline,
  error: GENESIS_ERROR_CODES.remoteError,
};

const DEFAULT_CHARGEBACK_REASONS = ['AM04', 'MD06', 'AC04', 'MD01'];
const DEFAULT_CHARGEBACK_AFTER_MS = 2_000;

function matches(rule: OutcomeRule, request: SddSaleRequest): boolean {
  return (
    (rule.iban === undefined || rule.iban === request.iban) &&
    (rule.amount === undefined || rule.amount === request.amount) &&
    (rule.transactionIdPrefix === undefined || request.transactionId.startsWith(rule.transactionIdPrefix))
  );
}

export function decideOutcome(policy: OutcomePolicy, seed: number, request: SddSaleRequest): SaleOutcome {
  const rule = policy.rules?.find((candidate) => matches(candidate, request));
  if (rule) return rule.outcome;
  const odds = policy.random ?? {};
  const random = randomFor(seed, request.transactionId);
  const roll = random();
  const declineRate = odds.declineRate ?? 0;
  if (roll < declineRate) return { status: 'declined' };
  if (roll < declineRate + (odds.errorRate ?? 0)) return { status: 'error' };
  if (random() >= (odds.chargebackRate ?? 0)) return { status: 'approved' };
  const reasons = odds.chargebackReasonCodes ?? DEFAULT_CHARGEBACK_REASONS;
  const reasonCode = reasons[Math.floor(random() * reasons.length)] ?? DEFAULT_CHARGEBACK_REASONS[0]!;
  return { status: 'approved', chargeback: { reasonCode, afterMs: odds.chargebackAfterMs ?? DEFAULT_CHARGEBACK_AFTER_MS } };
}
