/** Descriptions of the SEPA R-transaction reason codes (ISO 20022 ExternalReturnReason1Code) the simulator uses. */
const DESCRIPTIONS: Record<string, string> = {
  AC01: 'Account identifier incorrect',
  AC04: 'Account closed',
  AC06: 'Account blocked',
  AG01: 'Transaction forbidden on this type of account',
  AM04: 'Insufficient funds',
  AM05: 'Duplicate collection',
  BE05: 'Creditor identifier incorrect',
  MD01: 'No mandate',
  MD06: 'Refund request by the debtor',
  MD07: 'Debtor deceased',
  MS02: 'Refused by the debtor',
  MS03: 'Reason not specified',
  RR04: 'Regulatory reason',
  SL01: 'Specific service offered by the debtor bank',
};

export function sepaReasonDescription(code: string): string {
  return DESCRIPTIONS[code] ?? 'Unknown reason';
}
