/**
 * The default policy for SEPA R-transaction reason codes (../shared/sepa-domain.md §5.3): what
 * Tether does with a debtor after a return, refund or chargeback carrying a given code. Pure and
 * the only place the classes live; which codes blacklist is configurable on top of it
 * (CHARGEBACK_BLACKLIST_CODES), with `DEFAULT_BLACKLIST_CODES` as the default.
 * Genesis' own decline codes that say something about the debtor (error_code on a notification,
 * code on an answer) are classed here too.
 */
import { GENESIS_ERROR_CODES } from './genesis-codes';

export type ReasonCodeClass =
  | 'insufficient_funds' // can't pay: worth a later retry
  | 'disputed' // won't pay
  | 'unauthorised'
  | 'account_closed'
  | 'bad_debtor_data'
  | 'compliance'
  | 'our_side' // technical or creditor-side: fix, then resubmit
  | 'recall_answer'
  | 'blocked_by_emp' // Genesis refused the IBAN itself (error 696): no point sending it again
  | 'unknown';

/** What happens to the debtor by default: blacklisted, retried later, or neither. */
export type ReasonCodeAction = 'blacklist' | 'retry' | 'neither';

export interface ReasonCodePolicy {
  code: string;
  class: ReasonCodeClass;
  action: ReasonCodeAction;
  /** Needs a person: compliance, fraud or data review, or an unknown code. */
  review: boolean;
}

const CLASSES: Record<Exclude<ReasonCodeClass, 'unknown'>, readonly string[]> = {
  insufficient_funds: ['AM04', 'MS03'],
  disputed: ['MD06', 'MS02', 'SL01'],
  unauthorised: ['MD01'],
  account_closed: ['AC04', 'AC06', 'AG01', 'MD07'],
  bad_debtor_data: ['AC01', 'RC01', 'DNOR', 'MD02', 'RR01', 'RR02', 'AC13'],
  compliance: ['RR04'],
  our_side: ['AM05', 'AG02', 'BE05', 'CNOR', 'FF01', 'FF05', 'RR03'],
  recall_answer: ['FOCR'],
  blocked_by_emp: [GENESIS_ERROR_CODES.ibanBlacklisted],
};

const ACTION: Record<ReasonCodeClass, ReasonCodeAction> = {
  insufficient_funds: 'retry',
  disputed: 'blacklist',
  unauthorised: 'blacklist',
  account_closed: 'blacklist',
  // Soft-blocked until the data is corrected, which is not a blacklist entry.
  bad_debtor_data: 'neither',
  // Blocked pending a compliance decision, never automatically.
  compliance: 'neither',
  our_side: 'neither',
  recall_answer: 'neither',
  blocked_by_emp: 'blacklist',
  unknown: 'neither',
};

const NEEDS_REVIEW = new Set<ReasonCodeClass>(['unauthorised', 'bad_debtor_data', 'compliance', 'unknown']);

const CLASS_BY_CODE = new Map<string, ReasonCodeClass>(
  Object.entries(CLASSES).flatMap(([name, codes]) => codes.map((code) => [code, name as ReasonCodeClass] as const)),
);

export function normalizeReasonCode(code: string): string {
  return code.trim().toUpperCase();
}

export function reasonCodePolicy(code: string): ReasonCodePolicy {
  const normalized = normalizeReasonCode(code);
  const codeClass = CLASS_BY_CODE.get(normalized) ?? 'unknown';
  return { code: normalized, class: codeClass, action: ACTION[codeClass], review: NEEDS_REVIEW.has(codeClass) };
}

/** Codes that blacklist the debtor's IBAN by default: "do not collect again". */
export const DEFAULT_BLACKLIST_CODES: readonly string[] = [...CLASS_BY_CODE.keys()]
  .filter((code) => reasonCodePolicy(code).action === 'blacklist')
  .sort();

/**
 * Every known code whose class needs no person: what a query must exclude to find the chargebacks
 * that do (an unknown or missing code needs review too, and is in no list).
 */
export const CODES_WITHOUT_REVIEW: readonly string[] = [...CLASS_BY_CODE.keys()].filter((code) => !reasonCodePolicy(code).review).sort();

/**
 * Codes that end a recurring mandate (issue 18): no mandate (MD01), the debtor's refund request
 * under the mandate (MD06), the debtor deceased (MD07), a creditor-specific block (SL01). A
 * chargeback with one of them ends the mandate; the next collection for the debtor is not sent.
 */
export const MANDATE_ENDING_CODES: readonly string[] = ['MD01', 'MD06', 'MD07', 'SL01'];

export function endsMandate(code: string | undefined): boolean {
  return code !== undefined && MANDATE_ENDING_CODES.includes(normalizeReasonCode(code));
}
