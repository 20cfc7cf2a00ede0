import { parseArgs } from 'node:util';
import { z } from 'zod';
import { billingContext } from '../../billing/context';
import { startRun, type RunSelection } from '../../billing/runs';
import { reportRunAction } from '../billing-run-action';
import { defineCommand, UsageError } from '../command';

function selection(values: { upload?: string; attempts?: string; 'due-retries'?: boolean }): RunSelection {
  const given = [values.upload !== undefined, values.attempts !== undefined, values['due-retries'] === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give exactly one of --upload, --attempts, --due-retries');
  if (values.upload !== undefined) {
    const uploadId = z.uuid().safeParse(values.upload);
    if (!uploadId.success) throw new UsageError('--upload must be an upload id (a UUID)');
    return { uploadId: uploadId.data };
  }
  if (values.attempts !== undefined) {
    const attemptIds = values.attempts.split(',').map((id) => Number(id.trim()));
    if (attemptIds.some((id) => !Number.isSafeInteger(id) || id <= 0)) throw new UsageError('--attempts must list attempt ids, e.g. 4,5,6');
    return { attemptIds };
  }
  return { dueRetries: true };
}

export default defineCommand({
  name: 'billing:start',
  permission: 'operate',
  summary: "Start a billing run for an upload's pending attempts, chosen attempts, or the retries that are due",
  usage: '--upload <id> | --attempts <id,id,…> | --due-retries',
  async run(args, { io, services, actor }) {
    const { values } = parseArgs({
      args,
      options: { upload: { type: 'string' }, attempts: { type: 'string' }, 'due-retries': { type: 'boolean' } },
    });
    const context = billingContext(services());
    return reportRunAction(context, io, () => startRun(context, { selection: selection(values), actor }));
  },
});
