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
    // The events module reads reversals and representments from the type; anything else is a chargeback.
    type: record.type ?? 'chargeback',
    arn: record.arn,
    postDate: record.postDate,
    reasonCode: record.reasonCode,
    reasonDescription: record.reasonDescription,
    // Minor units, as the events module counts: `amount`, whose sign only follows the record's
    // type (a 1st chargeback is negative), not `chargeback_amount`, a major-unit decimal.
    amount: record.amount === undefined ? undefined : Math.abs(record.amount),
    currency: record.currency,
  };
}
