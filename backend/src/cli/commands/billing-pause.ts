import { parseArgs } from 'node:util';
import { z } from 'zod';
import { billingContext } from '../../billing/context';
import { runReport } from '../../billing/run-report';
import { BillingRunError, pauseRun, runProgress } from '../../billing/runs';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'billing:pause',
  summary: 'Pause a running billing run: nodes stop sending within a second',
  usage: '<run id> [--by <operator>]',
  async run(args, { io, services }) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { by: { type: 'string' } } });
    const runId = z.uuid().safeParse(positionals[0]);
    if (positionals.length !== 1 || !runId.success) throw new UsageError('expected one run id (a UUID)');
    const context = billingContext(services());
    try {
      const run = await pauseRun(context, runId.data, values.by ?? process.env.USER ?? 'cli');
      for (const line of runReport(run, await runProgress(context.db, run.id))) io.out(line);
    } catch (error) {
      if (!(error instanceof BillingRunError)) throw error;
      io.err(error.message);
      return 1;
    }
  },
});
