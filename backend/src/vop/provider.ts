/**
 * Who answers Verification of Payee requests. EMP has none (emp-genesis.md Q6), so the provider
 * is pluggable: a bank's VoP requester API, a bulk service, or the stand-in.
 */
import type { VopAnswer } from './result';

export interface PayeeToVerify {
  /** Electronic format. */
  iban: string;
  /** As the debtor file gives it. */
  name: string;
}

export interface VopProvider {
  readonly name: string;
  verify(payee: PayeeToVerify): Promise<VopAnswer>;
}
