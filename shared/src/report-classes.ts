/**
 * How finance counts an attempt: each status falls in exactly one class of the reports (issue 18).
 * A Record over every status, so a status added to the state machine does not compile until
 * someone decides how it is reported.
 */
import type { AttemptStatus } from './attempt-status';

export const REPORT_CLASSES = ['collected', 'declined', 'charged_back', 'refunded', 'outstanding', 'cancelled'] as const;
export type ReportClass = (typeof REPORT_CLASSES)[number];

const CLASS_OF: Record<AttemptStatus, ReportClass> = {
  // Not final yet: EMP has not answered, or its answer is not final.
  pending: 'outstanding',
  sending: 'outstanding',
  unknown: 'outstanding',
  submitted: 'outstanding',
  // The money arrived and stayed; a reversed chargeback gave it back to the creditor.
  approved: 'collected',
  chargeback_reversed: 'collected',
  declined: 'declined',
  error: 'declined',
  chargebacked: 'charged_back',
  refunded: 'refunded',
  // Counted whole among the collected: the refunded part is not yet taken from the figures (docs/reports.md).
  partially_refunded: 'collected',
  // Never collected: cancelled before sending, or voided before settlement.
  cancelled: 'cancelled',
  voided: 'cancelled',
};

export function reportClassOf(status: AttemptStatus): ReportClass {
  return CLASS_OF[status];
}

/** The classes whose figures are broken down by the reason code EMP gave. */
export const CLASSES_BY_REASON: ReadonlySet<ReportClass> = new Set(['declined', 'charged_back']);
