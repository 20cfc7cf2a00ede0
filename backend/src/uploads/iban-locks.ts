/**
 * Why two uploads processed at once never both accept the same new IBAN: whether an IBAN is new
 * (no debit open from another upload) is decided inside the batch's transaction, and each batch
 * first takes a transaction-scoped advisory lock per IBAN it holds. A batch of another upload
 * with one of those IBANs waits at that lock until this batch has committed, then sees its rows
 * and reports the IBAN as a duplicate of this upload's debit. Uploads without IBANs in common
 * never wait for each other.
 *
 * Transaction-scoped locks end with the transaction, also behind pgBouncer in transaction mode
 * (docs/pgbouncer.md). The locks are taken in the order of their keys, so two batches waiting for
 * each other's IBANs cannot happen; and a batch takes its locks only once the batch before it in
 * the same upload holds its own (see commitBatch), so a batch waiting for that earlier batch to
 * commit never holds a lock that the earlier one still needs.
 */
import type pg from 'pg';

/** The advisory lock namespace (first key) of the per-IBAN locks; the second key is hashtext(iban). */
export const IBAN_LOCK_NAMESPACE = 7_406_116;

/**
 * Until the previous release is gone from every node: its uploads take turns on this session lock
 * (held for a whole file), and a batch here holds it shared, so that an upload of an old node and
 * one of a new node never decide at the same time. Remove with the next release.
 */
const PREVIOUS_RELEASE_UPLOAD_TURN = 7_406_114;

/** Takes the locks of `ibans` for the client's open transaction; they are released when it ends. */
export async function lockIbans(client: pg.PoolClient, ibans: readonly string[]): Promise<void> {
  await client.query('select pg_advisory_xact_lock_shared($1)', [PREVIOUS_RELEASE_UPLOAD_TURN]);
  if (ibans.length === 0) return;
  // The aggregate takes the keys as the sorted subquery yields them, locking each as it comes.
  await client.query(
    `select count(pg_advisory_xact_lock($1, key)) from (select distinct hashtext(iban) as key from unnest($2::text[]) as iban order by key) keys`,
    [IBAN_LOCK_NAMESPACE, ibans],
  );
}
