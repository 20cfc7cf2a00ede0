import { recordAudit } from '../../audit/record';
import { migrateFilesToStorage } from '../../uploads/migrate-to-storage';
import { UsageError, defineCommand } from '../command';

export default defineCommand({
  name: 'files:migrate-to-s3',
  permission: 'administer',
  summary: "Copy uploads' files from a local directory to object storage, verifying each copy (size and SHA-256)",
  usage: '<directory> [--dry-run]',
  async run(args, { io, services, actor }) {
    const dryRun = args.includes('--dry-run');
    const positional = args.filter((arg) => arg !== '--dry-run');
    if (positional.length !== 1 || positional[0]!.startsWith('--')) throw new UsageError('expected one directory');
    const { database, storage } = services();
    const summary = await migrateFilesToStorage(database.db, storage, {
      directory: positional[0]!,
      dryRun,
      onFile: (file) => io.out(`${file.outcome.padEnd(18)} ${file.uploadId} ${file.fileKey}${file.detail ? `  (${file.detail})` : ''}`),
    });
    const counts = dryRun
      ? `would migrate ${summary.would_migrate}, already in storage ${summary.already_in_storage}, failed ${summary.failed}`
      : `migrated ${summary.migrated}, already in storage ${summary.already_in_storage}, failed ${summary.failed}`;
    if (!dryRun) await recordAudit(database.db, { actor, action: 'files.migrated', after: { ...summary } });
    io.out(`${dryRun ? 'dry run: ' : ''}${counts}`);
    if (!dryRun && summary.failed === 0 && summary.migrated > 0) io.out('every copy verified; the local files can be removed');
    return summary.failed > 0 ? 1 : 0;
  },
});
