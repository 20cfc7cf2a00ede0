/**
 * Uploads processed side by side on two nodes, delivered by QStash: two files with IBANs in
 * common, each new IBAN accepted by exactly one of them and reported as a duplicate in the
 * other's error report; a third upload waits in QStash, and a second delivery of a running upload
 * is answered at once, so that waiting holds no node's database connection.
 *
 * The overlap is made observable, not timed: the test holds the lock of one IBAN that both files
 * have in their second batch, and sees both uploads past their first batch and both waiting at
 * the same moment, which uploads taking turns could never be.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQStash } from '../../dev/testing/qstash';
import { IBAN_LOCK_NAMESPACE } from '../src/uploads/iban-locks';
import { PROCESS_UPLOAD_PATH, queueProcessing } from '../src/uploads/queue';
import { findUpload, PROCESSING_LEASE_SECONDS } from '../src/uploads/repository';
import { waitFor } from './support/backend';
import { startUploadBackend } from './support/upload-backend';
import { germanIban, startUploadTestEnvironment, storeUpload, type UploadTestEnvironment } from './support/uploads';

const BATCH = 50;
const ROWS = 3 * BATCH;
/** Data row `i` of a file is its line i + 1 (the header is line 1), which is what upload_row counts. */
const lineOf = (i: number) => i + 1;

let environment: UploadTestEnvironment;
let qstash: Awaited<ReturnType<typeof startTestQStash>>;
let nodes: Array<Awaited<ReturnType<typeof startUploadBackend>>>;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
  qstash = await startTestQStash(environment.database.url);
  // Three connections a node: one upload's two write lanes and one to spare.
  const settings = { UPLOAD_BATCH_SIZE: String(BATCH), UPLOAD_PARALLELISM: '2', DATABASE_POOL_SIZE: '3' };
  nodes = [await startUploadBackend(environment, qstash.server.url, settings), await startUploadBackend(environment, qstash.server.url, settings)];
});
afterAll(async () => {
  await Promise.all((nodes ?? []).map((node) => node.close()));
  await qstash?.server.close();
  await environment?.close();
});

/**
 * File A: IBANs 1…150 in order. File B shares 100 of them: its second batch only with A's second
 * batch; its first batch with A's first and (every third row) A's third, its third batch with A's
 * third and A's first. So each file takes some shared IBANs before the other gets to them, and
 * while both second batches wait at the barrier nothing else waits for them.
 */
function files() {
  const a = Array.from({ length: ROWS }, (_, index) => germanIban(10_000 + index + 1));
  const b = Array.from({ length: ROWS }, (_, index) => {
    const batch = Math.floor(index / BATCH);
    if (index % 3 === 2) return a[index]!;
    if (index % 3 === 0) return a[batch === 0 ? index + 2 * BATCH : batch === 2 ? index - 2 * BATCH - 1 : index]!;
    return germanIban(20_000 + index);
  });
  const csv = (ibans: string[], name: string) => ['IBAN,Name,Amount', ...ibans.map((iban, index) => `${iban},${name} ${index + 1},${(index % 9) + 1}.00`)].join('\n');
  return { a, b, csvA: csv(a, 'Ada'), csvB: csv(b, 'Bob') };
}

async function readReport(key: string): Promise<string[]> {
  const object = await environment.storage.getObjectStream(key);
  const chunks: Buffer[] = [];
  for await (const chunk of object!.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/^\ufeff/, '').split('\r\n').filter(Boolean).slice(1);
}

describe('uploads side by side', () => {
  it('run at once on two nodes, accept each new IBAN once, and wait without holding connections', { timeout: 300_000 }, async () => {
    const { a, b, csvA, csvB } = files();
    expect(new Set(b).size).toBe(ROWS);
    const uploadA = await storeUpload(environment, 'a.csv', csvA);
    const uploadB = await storeUpload(environment, 'b.csv', csvB);
    const uploadC = await storeUpload(environment, 'c.csv', ['IBAN,Name,Amount', `${germanIban(30_001)},Cem,5.00`].join('\n'));

    // The barrier: row 60 of both files (their second batch) has this IBAN.
    const barrier = a[59]!;
    expect(b[59]).toBe(barrier);
    const holder = await environment.database.pool.connect();
    try {
      await holder.query('begin');
      await holder.query('select pg_advisory_xact_lock($1, hashtext($2))', [IBAN_LOCK_NAMESPACE, barrier]);

      await queueProcessing(qstash.client, nodes[0]!.url, uploadA.id, 2);
      await queueProcessing(qstash.client, nodes[1]!.url, uploadB.id, 2);

      // Both past their first batch, and both waiting at an IBAN lock, at the same moment.
      await waitFor(async () => {
        const progress = await environment.database.pool.query<{ committed_row: number }>('select committed_row from uploads where id = any($1::uuid[])', [
          [uploadA.id, uploadB.id],
        ]);
        const waiting = await environment.database.pool.query<{ n: number }>(
          `select count(*)::int as n from pg_locks
            where locktype = 'advisory' and classid = $1::oid and not granted
              and database = (select oid from pg_database where datname = current_database())`,
          [IBAN_LOCK_NAMESPACE],
        );
        return progress.rows.length === 2 && progress.rows.every((row) => row.committed_row === lineOf(BATCH)) && waiting.rows[0]!.n === 2;
      }, 120_000);
      expect((await findUpload(environment.database.db, uploadA.id))!.status).toBe('processing');
      expect((await findUpload(environment.database.db, uploadB.id))!.status).toBe('processing');

      // A third upload waits in QStash (two are processed at once), and a second delivery of A, to
      // the other node, is answered at once while A is still held: published after the third
      // upload, it is delivered and dead-lettered (no retries) while the third has not been claimed.
      await queueProcessing(qstash.client, nodes[0]!.url, uploadC.id, 2);
      const redelivery = `${nodes[1]!.url}${PROCESS_UPLOAD_PATH}`;
      await qstash.client.publishJSON({ url: redelivery, body: { uploadId: uploadA.id }, retries: 0 });
      const [answer] = await waitFor(async () => {
        const { messages } = await qstash.client.dlq.listMessages({ filter: { url: redelivery } });
        return messages.length > 0 && messages;
      }, 30_000);
      expect(answer!.responseStatus).toBe(409);
      const retryAfter = Number(answer!.responseHeader?.['retry-after']?.[0]);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(PROCESSING_LEASE_SECONDS);
      expect((await findUpload(environment.database.db, uploadA.id))!.status).toBe('processing');
      expect((await findUpload(environment.database.db, uploadC.id))!.status).toBe('uploaded');
      // Nothing on either node waits for a connection: the uploads' lanes are all they hold.
      for (const node of nodes) expect(node.services.database.pool.waitingCount).toBe(0);
    } finally {
      await holder.query('rollback');
      holder.release();
    }

    const finished = await waitFor(async () => {
      const all = await Promise.all([uploadA, uploadB, uploadC].map((upload) => findUpload(environment.database.db, upload.id)));

      return all.every((upload) => upload?.status === 'completed') && all.map((upload) => upload!);
    }, 120_000);
    const [doneA, doneB, doneC] = finished;
    expect(doneC).toMatchObject({ rowsAccepted: 1, rowsRejected: 0 });

    // Each IBAN of both files accepted exactly once, by one upload or the other.
    const shared = a.filter((iban) => b.includes(iban));
    expect(shared).toHaveLength(2 * BATCH);
    const accepted = await environment.database.db.execute<{ iban: string; upload_id: string; upload_row: number; transaction_id: string }>(sql`
      select d.iban, d.upload_id, d.upload_row, a.transaction_id from debtors d join billing_attempts a on a.debtor_id = d.id
       where d.upload_id in (${uploadA.id}, ${uploadB.id})`);
    const byIban = new Map<string, typeof accepted.rows>();
    for (const row of accepted.rows) byIban.set(row.iban, [...(byIban.get(row.iban) ?? []), row]);
    expect([...byIban.values()].filter((rows) => rows.length !== 1)).toEqual([]);
    expect(new Set(byIban.keys())).toEqual(new Set([...a, ...b]));
    expect(doneA!.rowsAccepted + doneB!.rowsAccepted).toBe(2 * ROWS - shared.length);
    expect(doneA!.rowsRejected + doneB!.rowsRejected).toBe(shared.length);
    // Taking turns would have let the first file take every shared IBAN.
    expect(doneA!.rowsRejected).toBeGreaterThan(0);
    expect(doneB!.rowsRejected).toBeGreaterThan(0);

    // The other upload reports each shared IBAN as a duplicate of the winner's debit, in its error report.
    for (const [upload, ibans] of [
      [doneA!, a],
      [doneB!, b],
    ] as const) {
      const expected = ibans.flatMap((iban, index) => {
        const winner = byIban.get(iban)![0]!;
        if (winner.upload_id === upload.id) return [];
        return [`"${lineOf(index + 1)}","IBAN","${iban}","duplicate_open_debit","IBAN already has an open debit from another upload (${winner.transaction_id})"`];
      });
      expect(await readReport(upload.errorReportKey!)).toEqual(expected);
    }
  });
});
