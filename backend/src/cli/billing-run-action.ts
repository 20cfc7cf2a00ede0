import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { AuditActor } from '../audit/record';
import { billingContext, type BillingContext } from '../billing/context';
import { runReport } from '../billing/run-report';
import { BillingRunError, runProgress, type BillingRun } from '../billing/runs';
import { defineCommand, UsageError, type CliOutput } from './command';

type RunAction = (context: BillingContext, runId: string, actor: AuditActor) => Promise<BillingRun>;

/** Prints the report of the run `act` answers; a refused action (BillingRunError) is told on stderr, exit code 1. */
export async function reportRunAction(context: BillingContext, io: CliOutput, act: () => Promise<BillingRun>): Promise<number | void> {
  try {
    const run = await act();
    for (const line of runReport(run, await runProgress(context.db, run.id))) io.out(line);
  } catch (error) {
    if (!(error instanceof BillingRunError)) throw error;
    io.err(error.message);
    return 1;
  }
}

/** billing:pause, billing:resume and billing:cancel: one run id, an action, the run's report. */
export function billingRunActionCommand(name: string, summary: string, action: RunAction) {
  return defineCommand({
    name,
    summary,
    permission: 'operate',
    usage: '<run id>',
    async run(args, { io, services, actor }) {
      const { positionals } = parseArgs({ args, allowPositionals: true });
      const runId = z.uuid().safeParse(positionals[0]);
      if (positionals.length !== 1 || !runId.success) throw new UsageError('expected one run id (a UUID)');
      const context = billingContext(services());
      return reportRunAction(context, io, () => action(context, runId.data, actor));
    },
  });
}
