/**
 * The Chargeback API's record (genesis-xml, every field optional as parsed) in the shape the
 * events module applies. A record that names no original transaction cannot be tied to an
 * attempt and is left out.
 */
import type { ChargebackRecord as GenesisChargebackRecord } from '@tether/shared/genesis-xml';
import type { ChargebackRecord } from '../events/chargeback-records';

export function chargebackRecordFromGenesis(record: GenesisChargebackRecord): ChargebackRecord | undefined {
  if (!record.originalTransactionUniqueId) return undefined;
  return {
    originalTransactionUniqueId: record.originalTransactionUniqueId,
    // genesis-meaning reads the type; a record without one is a chargeback, the API's first type.
    type: record.type ?? '1st chargeback',
    arn: record.arn,
    postDate: record.postDate,
    reasonCode: record.reasonCode,
    reasonDescription: record.reasonDescription,
    // The issuer's chargeback amount where given; else the record's own, negative where it takes money from the merchant.
    amount: record.chargebackAmount ?? (record.amount === undefined ? undefined : Math.abs(record.amount)),
    currency: record.chargebackAmount !== undefined ? (record.chargebackCurrency ?? record.currency) : record.currency,
  };
}
