import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runReport } from '../../billing/run-report';
import { getRun, listRuns, runProgress } from '../../billing/runs';
import { positiveInteger } from '../arguments';
import { defineCommand, UsageError } from '../command';
import { formatTable } from '../table';

export default defineCommand({
  name: 'billing:status',
  permission: 'read',
  summary: 'Show one billing run with its progress, or list the latest runs',
  usage: '[<run id>] [--limit <n>]',
  async run(args, { io, services }) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { limit: { type: 'string' } } });
    const { db } = services().database;
    if (positionals.length > 1) throw new UsageError('expected at most one run id');
    if (positionals.length === 1) {
      const runId = z.uuid().safeParse(positionals[0]);
      if (!runId.success) throw new UsageError('the run id is a UUID');
      const run = await getRun(db, runId.data);
      if (!run) {
        io.err(`no billing run ${runId.data}`);
        return 1;
      }
      for (const line of runReport(run, await runProgress(db, run.id))) io.out(line);
      return;
    }
    const runs = await listRuns(db, positiveInteger(values.limit, '--limit', 20));
    if (runs.length === 0) {
      io.out('no billing runs');
      return;
    }
    const rows = runs.map((run) => ({
      id: run.id,
      status: run.status,
      attempts: run.attemptCount,
      paused_by: run.pausedBy,
      reason: run.pauseReason,
      breaker: run.breakerState,
      created_at: run.createdAt,
      created_by: run.createdBy,
    }));
    for (const line of formatTable(rows, Object.keys(rows[0]!))) io.out(line);
  },
});
