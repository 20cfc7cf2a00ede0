/**
 * What an EMP event means for a billing attempt, read from its fields alone (no I/O). It is
 * applied only to what EMP said in answer to Tether's own requests (sale answers, reconciles,
 * Chargeback API records); a notification's fields are a claim, read here only to compare them
 * with EMP's answer (confirmation/). Words' meanings come from @tether/shared/genesis-meaning.
 * Genesis reports chargebacks in several shapes (docs/genesis-protocol.md); all of them end
 * here in one meaning, so one state machine decides them:
 *
 * - a status notification on the attempt's own transaction, including `status=chargebacked`;
 * - `event=chargeback` (or reversal) on the original, naming it by its own `unique_id`;
 * - a chargeback, refund or void record (`transaction_type=chargeback`, `sdd_refund`, …) that
 *   names the original by `original_transaction_unique_id` or `reference_transaction_unique_id`,
 *   also how reconciliation feeds chargeback records pulled from the Chargeback API.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import {
  attemptStatusFromGenesis,
  eventOfTransactionType,
  readGenesisEvent,
  referenceTarget,
  type EventReading,
} from '@tether/shared/genesis-meaning';
import { normalizeReasonCode } from '@tether/shared/reason-codes';

export interface ChargebackDetails {
  /** The chargeback record's own Genesis unique_id, when it is a record of its own. */
  uniqueId?: string;
  /** Minor units, as EMP reports amounts. */
  amount?: number;
  currency?: string;
  reason?: string;
  reasonCode?: string;
  arn?: string;
}

export interface EventMeaning {
  /** Genesis unique_id of the attempt's transaction; the first way to find the attempt. */
  attemptUniqueId?: string;
  /** Tether's transaction_id, when the event carries the attempt's own; the second way. */
  transactionId?: string;
  /** True when `attemptUniqueId` came from the notification itself, so the attempt may learn it. */
  ownUniqueId: boolean;
  /** Where the attempt should move; undefined when the event only informs. */
  target?: AttemptStatus;
  /** The Genesis status the attempt's transaction now has, for billing_attempts.emp_status. */
  empStatus?: string;
  transactionType?: string;
  eventName?: string;
  chargeback?: ChargebackDetails;
  /** Code and text EMP gave with a decline, an error or a chargeback. */
  code?: string;
  message?: string;
  /** Why a person should look at it: an `event` value or record type Genesis does not document. */
  review?: string;
}

export type Interpretation = { ok: true; meaning: EventMeaning } | { ok: false; error: string };

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function lower(value: string | undefined): string | undefined {
  return text(value)?.toLowerCase();
}

/** Minor units; a chargeback record's negative amount (money taken from the merchant) counts by its size. */
function minorUnits(value: string | undefined): number | undefined {
  const amount = Number(text(value));
  return text(value) !== undefined && Number.isSafeInteger(amount) ? Math.abs(amount) : undefined;
}

function chargebackDetails(
  fields: Record<string, string>,
  details: { recordUniqueId?: string; code?: string; message?: string },
): ChargebackDetails {
  return {
    uniqueId: details.recordUniqueId,
    amount: minorUnits(fields.amount),
    currency: text(fields.currency)?.toUpperCase(),
    reason: details.message,
    reasonCode: details.code,
    arn: text(fields.arn),
  };
}

/** The `event` field first; a chargeback's own record may say it by its transaction type alone. */
function readEvent(eventName: string | undefined, transactionType: string | undefined): EventReading | undefined {
  if (eventName) return readGenesisEvent(eventName);
  const event = transactionType ? eventOfTransactionType(transactionType) : undefined;
  return event ? readGenesisEvent(event) : undefined;
}

export function interpretEvent(fields: Record<string, string>): Interpretation {
  const wpf = !text(fields.unique_id) && Boolean(text(fields.wpf_unique_id));
  const notificationUniqueId = wpf ? text(fields.payment_transaction_unique_id) : text(fields.unique_id);
  const transactionId = wpf ? (text(fields.wpf_transaction_id) ?? text(fields.transaction_id)) : text(fields.transaction_id);
  const transactionType = lower(wpf ? fields.payment_transaction_transaction_type : fields.transaction_type);
  const eventName = lower(fields.event);
  const status = lower(wpf ? fields.wpf_status : (fields.status ?? fields.notification_status));
  const reference = text(fields.original_transaction_unique_id) ?? text(fields.reference_transaction_unique_id);
  // A SEPA reason code when EMP gives one; else Genesis' own code and text (error_code on a
  // notification, code on an answer), as on a declined or failed sale.
  const rawCode = text(fields.reason_code) ?? text(fields.rc_code) ?? text(fields.error_code) ?? text(fields.code);
  const code = rawCode ? normalizeReasonCode(rawCode) : undefined;
  const message =
    text(fields.reason) ??
    text(fields.rc_description) ??
    text(fields.reason_description) ??
    (code ? (text(fields.error_message) ?? text(fields.technical_message) ?? text(fields.message)) : undefined);
  const described = { transactionType, eventName, code, message };

  const event = readEvent(eventName, transactionType);
  const referenceMove = transactionType ? referenceTarget(transactionType) : undefined;

  if (event || (referenceMove && reference)) {
    // A record of its own names the original; otherwise the notification is on the original.
    const original = reference ?? notificationUniqueId;
    if (!original) return { ok: false, error: `${transactionType ?? eventName} names no original transaction` };
    const target: AttemptStatus | undefined = event
      ? event.known
        ? event.moves
        : undefined
      : status === 'approved'
        ? referenceMove
        : undefined;
    return {
      ok: true,
      meaning: {
        attemptUniqueId: original,
        transactionId: reference ? undefined : transactionId,
        ownUniqueId: !reference,
        target,
        // A record's own status (its "approved") is not the original's.
        empStatus: reference ? target : status,
        chargeback:
          target === 'chargebacked'
            ? chargebackDetails(fields, { recordUniqueId: reference ? notificationUniqueId : undefined, code, message })
            : undefined,
        review: event && !event.known ? `"${event.value}" is not a documented Genesis event: recorded for review, nothing applied` : undefined,
        ...described,
      },
    };
  }

  if (!notificationUniqueId && !transactionId) return { ok: false, error: 'the event names no transaction' };
  const target = status ? attemptStatusFromGenesis(status) : undefined;
  return {
    ok: true,
    meaning: {
      attemptUniqueId: notificationUniqueId,
      transactionId,
      ownUniqueId: Boolean(notificationUniqueId),
      target,
      empStatus: status,
      chargeback: target === 'chargebacked' ? chargebackDetails(fields, { code, message }) : undefined,
      ...described,
    },
  };
}
