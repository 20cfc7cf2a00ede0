/**
 * Genesis' answer about one attempt (a sale's, a reconcile's), applied through the events path,
 * and checked to have landed on that attempt: the events path may refuse it (illegal, failed),
 * record it for another attempt, or fail to commit it (a constraint, the database). Such an answer
 * is never dropped in silence: logged at error with its cause, counted, and the cause written on
 * the attempt, where the dashboard shows it.
 */
import type { PaymentResponse } from '@tether/shared/genesis-xml';
import { eq } from 'drizzle-orm';
import { billingAttempts } from '../db/schema';
import { describeError } from '../events/describe-error';
import type { EventOutcome } from '../events/outcome';
import type { ProcessResult } from '../events/process';
import type { BillingContext } from './context';
import { genesisAnswerEvent, type AnswerOrigin } from './genesis-answer-event';

export type AnswerRecording = { recorded: true } | { recorded: false; cause: string };

/** The attempt now stands at the answer's status, or already past it (a notification overtook it). */
const LANDED: readonly EventOutcome[] = ['applied', 'unchanged', 'stale'];

function causeOf(result: ProcessResult, attemptId: number): string | undefined {
  if (result.attemptId === attemptId && LANDED.includes(result.outcome)) return undefined;
  const elsewhere = result.attemptId === attemptId ? '' : ` for ${result.attemptId === undefined ? 'no attempt' : `attempt ${result.attemptId}`}`;
  return `event ${result.eventId} ${result.outcome}${elsewhere}${result.error ? `: ${result.error}` : ''}`;
}

export async function recordGenesisAnswer(
  context: BillingContext,
  attempt: { id: number; transactionId: string },
  payment: PaymentResponse,
  origin: AnswerOrigin,
): Promise<AnswerRecording> {
  let cause: string | undefined;
  try {
    cause = causeOf(await context.answers.submit(genesisAnswerEvent(payment, origin, attempt.transactionId)), attempt.id);
  } catch (error) {
    cause = describeError(error);
  }
  if (cause === undefined) return { recorded: true };

  context.log.error(
    { attemptId: attempt.id, transactionId: attempt.transactionId, uniqueId: payment.uniqueId, empStatus: payment.status, origin, cause },
    'EMP answered but the answer could not be recorded on its attempt',
  );
  context.metrics.unrecordedAnswers.inc({ origin });
  await context.db
    .update(billingAttempts)
    .set({ errorMessage: `EMP's ${origin} answer (${payment.status}) could not be recorded: ${cause}` })
    .where(eq(billingAttempts.id, attempt.id));
  return { recorded: false, cause };
}
