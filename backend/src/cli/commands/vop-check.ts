import { parseArgs } from 'node:util';
import { z } from 'zod';
import { recordAudit } from '../../audit/record';
import { billingContext } from '../../billing/context';
import { queueUploadPayeeChecks } from '../../vop/queue';
import { defineCommand, UsageError } from '../command';

export default defineCommand({
  name: 'vop:check',
  permission: 'operate',
  summary: "Queue Verification of Payee for an upload's pending attempts not checked yet (results before any billing run)",
  usage: '--upload <id>',
  async run(args, { io, services, actor }) {
    const { values } = parseArgs({ args, options: { upload: { type: 'string' } } });
    const uploadId = z.uuid().safeParse(values.upload);
    if (!uploadId.success) throw new UsageError('--upload must be an upload id (a UUID)');
    const queued = await queueUploadPayeeChecks(billingContext(services()), uploadId.data);
    await recordAudit(services().database.db, { actor, action: 'vop.queued', target: { kind: 'upload', id: uploadId.data }, after: { queued } });
    io.out(`${queued} attempts queued for Verification of Payee`);
  },
});
