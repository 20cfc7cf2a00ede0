/**
 * What processing an event did, as recorded on its webhook_events row.
 *
 * EMP's answers to Tether's own requests (sale answers, reconciles, Chargeback API records) are
 * applied: applied, unchanged, stale, illegal, pending_match, failed; `review` when EMP used a
 * word Genesis does not document (an unknown event or chargeback type): nothing is guessed.
 *
 * A notification is only a trigger (its signature covers nothing but its id): it waits as
 * awaiting_confirmation until EMP's API has been asked about the signed id, and then ends as
 * - confirmed: EMP's answer agrees with what the notification claimed; EMP's state was applied;
 * - contradicted: EMP's answer differs (another status, event or amount); EMP's state was
 *   applied, the notification's claim stays on the row for the record;
 * - rejected: EMP does not know the transaction, it is another terminal's, it is not one of
 *   Tether's attempts, or the notification names another transaction than the one it is signed
 *   for; nothing was applied;
 * - ignored: a kind Tether does not act on (KYC, APM events), echoed so that EMP stops resending.
 * The effect of a confirmed or contradicted notification is the EMP answer event its row links to.
 */
export const APPLY_OUTCOMES = ['applied', 'unchanged', 'stale', 'illegal', 'pending_match', 'review', 'failed'] as const;

export const NOTIFICATION_OUTCOMES = ['awaiting_confirmation', 'confirmed', 'contradicted', 'rejected', 'ignored'] as const;

export const EVENT_OUTCOMES = [...APPLY_OUTCOMES, ...NOTIFICATION_OUTCOMES] as const;

export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

export type NotificationVerdict = Extract<EventOutcome, 'confirmed' | 'contradicted' | 'rejected'>;

/**
 * Outcomes that are not final: a redelivery, a replay or a match runs such an event again.
 * Every other outcome is final, because an attempt's status only moves forward: what was stale
 * or illegal once stays so. A notification is never run again as it claims: replaying one asks
 * EMP again (see confirmation/).
 */
export const REOPENABLE_OUTCOMES: readonly EventOutcome[] = ['pending_match', 'failed'];

export function isEventOutcome(value: string): value is EventOutcome {
  return (EVENT_OUTCOMES as readonly string[]).includes(value);
}

/** Where an event came from; see webhook_events.source. */
export type EventSource = 'notification' | 'emp_api';
