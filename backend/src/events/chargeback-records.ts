/**
 * Chargeback records pulled from the Chargeback API (../shared/emp-genesis.md §6.2) enter the
 * backend as events, through the same path as notifications: one state machine, one history,
 * one blacklist policy, exactly once per record.
 */
import { eventOfChargebackType } from '@tether/shared/genesis-meaning';
import type { EventContext } from './context';
import type { UnusableRecord } from '@tether/shared/genesis-xml';
import { processEvent, recordFailedEvent, type IncomingEvent, type ProcessResult } from './process';

export interface ChargebackRecord {
  /** The original sdd_sale's unique_id: how the record names the billing attempt. */
  originalTransactionUniqueId: string;
  /** As EMP spells it: "1st chargeback", "Chargeback Reversal", "Representment", "Representment Reversal", "2nd chargeback", … */
  type: string;
  arn?: string;
  postDate?: string;
  reasonCode?: string;
  reasonDescription?: string;
  /** Minor units, what was charged back (never negative). */
  amount?: number;
  currency?: string;
}

export function chargebackRecordEvent(record: ChargebackRecord, receivedAt = new Date()): IncomingEvent {
  // The record type says which event it is (genesis-meaning); a type Genesis does not document
  // is passed on as it is, so that the event is recorded for review rather than guessed.
  const fields: Record<string, string> = {
    event: eventOfChargebackType(record.type) ?? record.type,
    chargeback_type: record.type,
    original_transaction_unique_id: record.originalTransactionUniqueId,
  };
  if (record.arn) fields.arn = record.arn;
  if (record.postDate) fields.post_date = record.postDate;
  if (record.reasonCode) fields.reason_code = record.reasonCode;
  if (record.reasonDescription) fields.reason_description = record.reasonDescription;
  if (record.amount !== undefined) fields.amount = String(record.amount);
  if (record.currency) fields.currency = record.currency;
  // The same record pulled again is the same event; a later record (reversal, second
  // chargeback) differs in type or post date.
  const key = [record.originalTransactionUniqueId, record.type, record.postDate ?? '', record.arn ?? '']
    .map((part) => encodeURIComponent(part.trim().toLowerCase()))
    .join(':');
  return { dedupKey: `chargeback-api:${key}`, receivedAt, fields };
}

export function applyChargebackRecord(context: EventContext, record: ChargebackRecord): Promise<ProcessResult> {
  return processEvent(context, chargebackRecordEvent(record));
}

/**
 * A record of a Chargeback API page that Tether could not read: kept as a failed event (on the
 * events page, once per record, with the ids that tell which one it is), logged and counted by
 * the caller; the page's other records are applied all the same.
 */
export function recordUnusableChargeback(context: EventContext, record: UnusableRecord): Promise<number | undefined> {
  const fields: Record<string, string> = { source: 'chargeback_api', error: record.error };
  if (record.originalTransactionUniqueId) fields.original_transaction_unique_id = record.originalTransactionUniqueId;
  if (record.arn) fields.arn = record.arn;
  const key = [record.originalTransactionUniqueId ?? '', record.arn ?? '', record.error].map((part) => encodeURIComponent(part)).join(':');
  return recordFailedEvent(context, { dedupKey: `chargeback-api-unusable:${key}`, receivedAt: new Date(), fields }, `unusable chargeback record: ${record.error}`);
}
