/**
 * Cron expressions as QStash takes them: five fields in UTC, optionally prefixed "CRON_TZ=<zone>".
 * Six fields (seconds first) are accepted too, so tests need not wait for a minute boundary.
 */
import { Cron } from 'croner';
import { badRequest } from './api-error';

function parse(expression: string): Cron {
  const match = /^CRON_TZ=(\S+)\s+(.*)$/.exec(expression.trim());
  const [timezone, pattern] = match ? [match[1]!, match[2]!] : ['UTC', expression.trim()];
  try {
    return new Cron(pattern, { timezone, mode: '5-or-6-parts' });
  } catch (error) {
    throw badRequest(`invalid Upstash-Cron: ${error instanceof Error ? error.message : expression}`);
  }
}

export function validateCron(expression: string): void {
  parse(expression);
}

/** The first run strictly after `after` (unix ms), or null if the expression never fires again. */
export function nextRunAfter(expression: string, after: number): number | null {
  return parse(expression).nextRun(new Date(after))?.getTime() ?? null;
}
