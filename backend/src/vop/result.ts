/**
 * Verification of Payee answers (../shared/sepa-domain.md §7): the four results of the EPC VOP
 * scheme (ISO 20022 MTCH, CMTC, NMTC, NOAP), in Tether's words.
 */
export const VOP_RESULTS = ['match', 'close_match', 'no_match', 'not_possible'] as const;

export type VopResult = (typeof VOP_RESULTS)[number];

export interface VopAnswer {
  result: VopResult;
  /** The account holder's name as the bank knows it, given with a close match. */
  matchedName?: string;
}
