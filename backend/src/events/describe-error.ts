import { DrizzleQueryError } from 'drizzle-orm/errors';

/**
 * An error as one line for logs and the event row. Not the Error itself: the log formatter would
 * flatten it to {}. And not drizzle's message for a failed query, which quotes the parameters —
 * an event's payload, IBAN and names included — but the database's own message under it.
 */
export function describeError(error: unknown): string {
  const root = error instanceof DrizzleQueryError && error.cause instanceof Error ? error.cause : error;
  const code = (root as { code?: unknown }).code;
  const message = root instanceof Error ? root.message : String(root);
  return (typeof code === 'string' ? `${message} (SQLSTATE ${code})` : message).slice(0, 2000);
}
