/** What processing an event did, as recorded on its webhook_events row. */
export const EVENT_OUTCOMES = ['applied', 'unchanged', 'stale', 'illegal', 'pending_match', 'failed'] as const;

export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

/**
 * Outcomes that are not final: a redelivery, a replay or a match runs such an event again.
 * Every other outcome is final, because an attempt's status only moves forward: what was stale
 * or illegal once stays so.
 */
export const REOPENABLE_OUTCOMES: readonly EventOutcome[] = ['pending_match', 'failed'];

export function isEventOutcome(value: string): value is EventOutcome {
  return (EVENT_OUTCOMES as readonly string[]).includes(value);
}
