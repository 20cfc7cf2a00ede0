/** An upload of N pending attempts, as upload processing leaves them, written in one statement. */
import type pg from 'pg';

export async function seedUpload(pool: pg.Pool, attempts: number): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into uploads (file_key, original_name, status) values ('bench/' || gen_random_uuid() || '.csv', 'bench.csv', 'completed') returning id`,
  );
  const uploadId = rows[0]!.id;
  await pool.query(
    `with new_debtors as (
       insert into debtors (iban, name, name_original, upload_id, upload_row)
       -- Valid German IBANs: check digits computed from the BBAN (mod 97).
       select 'DE' || lpad((98 - ((('37040044' || lpad(n::text, 10, '0') || '131400')::numeric) % 97))::text, 2, '0')
                   || '37040044' || lpad(n::text, 10, '0'),
              'Bench Debtor ' || n, 'Bench Debtor ' || n, $1::uuid, n + 1
       from generate_series(1, $2::int) as n
       returning id, upload_row
     )
     insert into billing_attempts (transaction_id, debtor_id, upload_id, amount_cents)
     select $3::text || '-' || upload_row, id, $1::uuid, 1990 from new_debtors`,
    [uploadId, attempts, uploadId],
  );
  return uploadId;
}
