/**
 * The upload fault of scenario 3 (the node processing a file is killed mid-file: another node
 * resumes after the last committed batch, no debtor twice) and the corrupt files of scenario 4
 * (refused with a reason, nothing of them in the database).
 */
import { randomBytes } from 'node:crypto';
import { germanIban } from '../../../dev/testing/iban';
import { waitUntil } from '../../support/processes';
import { Operator } from '../operator';
import type { Check, ScenarioResult } from '../results';
import type { E2EStack } from '../stack';

function debtorFile(rows: number, firstAccount: number): Buffer {
  const lines = ['Kontoinhaber;IBAN;Betrag;Kundennummer'];
  for (let i = 0; i < rows; i++) lines.push(`Debtor ${i};${germanIban(firstAccount + i)};${(i % 90) + 10},50;K-${firstAccount + i}`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function uploadProgress(stack: E2EStack, uploadId: string) {
  const { rows } = await stack.database.pool.query<{ status: string; committed_row: number }>('select status, committed_row from uploads where id = $1', [uploadId]);
  return rows[0];
}

export async function uploadCrashScenario(stack: E2EStack, options: { rows: number; firstAccount: number; timeoutMs: number }): Promise<ScenarioResult> {
  const started = Date.now();
  const operator = await Operator.logIn(stack);
  const uploadId = await operator.upload(`crash-${options.firstAccount}.csv`, debtorFile(options.rows, options.firstAccount));

  let killedAt: { node: number; committedRow: number } | undefined;
  await waitUntil(
    async () => {
      const progress = await uploadProgress(stack, uploadId);
      if (progress?.status !== 'processing' || progress.committed_row === 0) return progress?.status === 'completed';
      const node = await stack.nodeProcessingUpload(uploadId);
      if (node === undefined) return false;
      await stack.killNode(node);
      killedAt = { node, committedRow: progress.committed_row };
      return true;
    },
    options.timeoutMs,
    'the upload under way on a node',
    50,
  );
  const upload = await operator.uploadSettled(uploadId, options.timeoutMs);
  if (killedAt) await stack.startNode(killedAt.node);

  const { rows } = await stack.database.pool.query<{ debtors: number; distinct_ibans: number; distinct_rows: number }>(
    'select count(*)::int as debtors, count(distinct iban)::int as distinct_ibans, count(distinct upload_row)::int as distinct_rows from debtors where upload_id = $1',
    [uploadId],
  );
  const counts = rows[0]!;
  const checks: Check[] = [
    {
      name: 'the node processing the file was killed mid-file',
      passed: killedAt !== undefined && killedAt.committedRow < options.rows,
      detail: killedAt ? `node ${killedAt.node + 1} killed with ${killedAt.committedRow} of ${options.rows} rows committed` : 'the file was done before a node could be killed',
    },
    { name: 'another node resumed and finished the file', passed: upload.status === 'completed' && upload.rows.accepted === options.rows, detail: `${upload.status}, ${upload.rows.accepted} of ${options.rows} rows accepted` },
    {
      name: 'no debtor twice',
      passed: counts.debtors === options.rows && counts.distinct_ibans === options.rows && counts.distinct_rows === options.rows,
      detail: `${counts.debtors} debtors, ${counts.distinct_ibans} distinct IBANs, ${counts.distinct_rows} distinct rows`,
    },
  ];
  return {
    name: 'fault: upload node killed mid-file',
    description: 'The node holding an upload\'s processing lease is killed (SIGKILL) once a batch is committed; QStash redelivers, another node resumes.',
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    load: `${options.rows.toLocaleString('en-US')}-row CSV`,
    checks,
    figures: { 'rows committed when killed': killedAt?.committedRow ?? 0 },
  };
}

/** Files an operator might upload by mistake or malice; each must be refused with a reason. */
function corruptFiles(): Array<{ name: string; content: Buffer }> {
  return [
    { name: 'random-bytes.csv', content: randomBytes(4096) },
    { name: 'not-a-zip.xlsx', content: Buffer.from('PK\u0003\u0004 this is not really a zip archive') },
    { name: 'truncated.xlsx', content: Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(2048)]) },
    { name: 'no-header.csv', content: Buffer.from(`${germanIban(1)};12,50\n${germanIban(2)};13,50\n`) },
    { name: 'html.csv', content: Buffer.from('<html><body><h1>Login</h1></body></html>') },
    { name: 'empty-lines.csv', content: Buffer.from('\n\n\n\n') },
  ];
}

export async function corruptUploads(stack: E2EStack, timeoutMs: number): Promise<Check[]> {
  const operator = await Operator.logIn(stack);
  const debtorsBefore = (await stack.database.pool.query<{ n: number }>('select count(*)::int as n from debtors')).rows[0]!.n;
  const checks: Check[] = [];
  for (const file of corruptFiles()) {
    const outcome = await operator
      .upload(file.name, file.content)
      .then((id) => operator.uploadSettled(id, timeoutMs))
      .then(
        (upload) => ({ refused: upload.status === 'failed' && upload.rows.accepted === 0, detail: `${upload.status}: ${upload.error ?? 'no reason given'}` }),
        (error: Error) => ({ refused: !/answered 5\d\d/.test(error.message), detail: error.message }),
      );
    checks.push({ name: `corrupt upload ${file.name} refused with a reason`, passed: outcome.refused, detail: outcome.detail });
  }
  const debtorsAfter = (await stack.database.pool.query<{ n: number }>('select count(*)::int as n from debtors')).rows[0]!.n;
  checks.push({ name: 'no debtor from a corrupt file', passed: debtorsAfter === debtorsBefore, detail: `${debtorsAfter - debtorsBefore} debtors added` });
  return checks;
}
