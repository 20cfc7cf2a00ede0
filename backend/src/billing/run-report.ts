/** A billing run as lines for the CLI: status, why it is paused, progress by status. */
import type { BillingRun, RunProgress } from './runs';

export function runReport(run: BillingRun, progress: RunProgress): string[] {
  const lines = [
    `run ${run.id}: ${run.status}${run.pausedBy ? ` (by ${run.pausedBy}: ${run.pauseReason ?? 'no reason given'})` : ''}`,
    `  attempts ${run.attemptCount}, sent ${progress.sent}, breaker ${run.breakerState}`,
    `  ${Object.entries(progress.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status} ${count}`)
      .join(', ') || 'no attempts'}`,
    `  started ${run.createdAt.toISOString()}${run.createdBy ? ` by ${run.createdBy}` : ''}`,
  ];
  if (run.completedAt) lines.push(`  completed ${run.completedAt.toISOString()}`);
  if (run.cancelledAt) lines.push(`  cancelled ${run.cancelledAt.toISOString()}`);
  return lines;
}
