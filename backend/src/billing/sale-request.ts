/**
 * The sdd_sale for a claimed attempt (emp-genesis.md §2.1): Tether's transaction_id as the
 * idempotency reference, the amount in cents, the debtor's account, name and country.
 */
import { SDD_BILLING_COUNTRIES, type SddSaleRequest } from '@tether/shared/genesis-xml';

export interface ClaimedAttempt {
  id: number;
  transactionId: string;
  amountCents: number;
  currency: string;
  iban: string;
  bic: string | null;
  /** In the SEPA character set. */
  name: string;
  address: Record<string, string> | null;
  mandateReference: string | null;
  externalReference: string | null;
  /** From an upload of recurring debtors: collected on a recurring mandate (recurring/mandates.ts). */
  recurring: boolean;
}

const SDD_COUNTRIES = new Set<string>(SDD_BILLING_COUNTRIES);

/** Genesis wants first and last name apart; a one-word name (a company, say) serves as both. */
function splitName(name: string): { firstName: string; lastName: string } {
  const words = name.trim().split(/\s+/);
  if (words.length < 2) return { firstName: name.trim(), lastName: name.trim() };
  return { firstName: words.slice(0, -1).join(' '), lastName: words.at(-1)! };
}

/** The debtor's address country if Genesis takes it for SDD, else the IBAN's (Genesis refuses others with 340). */
function billingCountry(attempt: ClaimedAttempt): SddSaleRequest['billingAddress']['country'] {
  const fromAddress = attempt.address?.country?.toUpperCase();
  const country = fromAddress && SDD_COUNTRIES.has(fromAddress) ? fromAddress : attempt.iban.slice(0, 2);
  return country as SddSaleRequest['billingAddress']['country'];
}

/**
 * No notification_url: sdd_sale's documented parameters and every official SDK's model leave it
 * out; EMP sends notifications to the URL configured for the merchant (docs/genesis-protocol.md).
 */
export function saleRequestFor(attempt: ClaimedAttempt): SddSaleRequest {
  const { firstName, lastName } = splitName(attempt.name);
  return {
    transactionId: attempt.transactionId,
    usage: (attempt.externalReference ?? `Direct debit ${attempt.transactionId}`).slice(0, 255),
    amount: attempt.amountCents,
    currency: attempt.currency,
    iban: attempt.iban,
    bic: attempt.bic ?? undefined,
    mandateReference: attempt.mandateReference ?? undefined,
    billingAddress: {
      firstName: firstName.slice(0, 255),
      lastName: lastName.slice(0, 255),
      address1: attempt.address?.street,
      zipCode: attempt.address?.postalCode,
      city: attempt.address?.city,
      country: billingCountry(attempt),
    },
  };
}
