/**
 * What an EMP event means for a billing attempt, read from its fields alone (no I/O). Genesis
 * reports chargebacks in several shapes (../shared/emp-genesis.md, "Tether's reading of this
 * spec"); all of them end here in one meaning, so one state machine decides them:
 *
 * - a status notification on the attempt's own transaction, including `status=chargebacked`;
 * - `event=chargeback` (or reversal) on the original, naming it by its own `unique_id`;
 * - a chargeback, refund or void record (`transaction_type=chargeback`, `sdd_refund`, …) that
 *   names the original by `original_transaction_unique_id` or `reference_transaction_unique_id`,
 *   also how reconciliation feeds chargeback records pulled from the Chargeback API.
 */
import { attemptStatusFromGenesis, type AttemptStatus } from '@tether/shared/attempt-status';
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
}

export type Interpretation = { ok: true; meaning: EventMeaning } | { ok: false; error: string };

/** Transaction types and `event` values that report a chargeback or its reversal. */
const CHARGEBACK_TARGETS: Record<string, AttemptStatus> = {
  chargeback: 'chargebacked',
  chargebacked: 'chargebacked',
  second_chargeback: 'chargebacked',
  second_chargebacked: 'chargebacked',
  pre_arbitration: 'chargebacked',
  pre_arbitrated: 'chargebacked',
  chargeback_reversal: 'chargeback_reversed',
  chargeback_reversed: 'chargeback_reversed',
  representment: 'chargeback_reversed',
  represented: 'chargeback_reversed',
};

/** Reference transactions that change the original once approved. */
const REFERENCE_TARGETS: Record<string, AttemptStatus> = {
  sdd_refund: 'refunded',
  refund: 'refunded',
  void: 'voided',
};

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function lower(value: string | undefined): string | undefined {
  return text(value)?.toLowerCase();
}

function minorUnits(value: string | undefined): number | undefined {
  const amount = Number(text(value));
  return text(value) !== undefined && Number.isFinite(amount) ? amount : undefined;
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

export function interpretEvent(fields: Record<string, string>): Interpretation {
  const wpf = !text(fields.unique_id) && Boolean(text(fields.wpf_unique_id));
  const notificationUniqueId = wpf ? text(fields.payment_transaction_unique_id) : text(fields.unique_id);
  const transactionId = wpf ? (text(fields.wpf_transaction_id) ?? text(fields.transaction_id)) : text(fields.transaction_id);
  const transactionType = lower(wpf ? fields.payment_transaction_transaction_type : fields.transaction_type);
  const eventName = lower(fields.event);
  const status = lower(wpf ? fields.wpf_status : (fields.status ?? fields.notification_status));
  const reference = text(fields.original_transaction_unique_id) ?? text(fields.reference_transaction_unique_id);
  // A SEPA reason code when EMP gives one; else Genesis' own code and text, as on a declined or
  // failed sale answered synchronously or by reconcile.
  const rawCode = text(fields.reason_code) ?? text(fields.rc_code) ?? text(fields.code);
  const code = rawCode ? normalizeReasonCode(rawCode) : undefined;
  const message =
    text(fields.reason) ??
    text(fields.rc_description) ??
    text(fields.reason_description) ??
    (code ? (text(fields.technical_message) ?? text(fields.message)) : undefined);
  const described = { transactionType, eventName, code, message };

  const chargebackTarget =
    (eventName && CHARGEBACK_TARGETS[eventName]) || (transactionType && CHARGEBACK_TARGETS[transactionType]) || undefined;
  const referenceTarget = transactionType ? REFERENCE_TARGETS[transactionType] : undefined;

  if (chargebackTarget || (referenceTarget && reference)) {
    // A record of its own names the original; otherwise the notification is on the original.
    const original = reference ?? notificationUniqueId;
    if (!original) return { ok: false, error: `${transactionType ?? eventName} names no original transaction` };
    const target = chargebackTarget ?? (status === 'approved' ? referenceTarget : undefined);
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
