/**
 * The floor of an import: the least work PostgreSQL must do to hold the same rows. psql's
 * `\copy` of the debtors Tether wrote (prepared: already checked, transliterated, in COPY's text
 * format) into `debtors`, then one `INSERT … SELECT` of their billing attempts, in one
 * transaction, on a fresh database with the real schema (every index and foreign key, applied by
 * the same migrations as the node's). Nothing but the write itself is timed: the rows are dumped
 * and the upload row they reference inserted beforehand.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { CpuAccount, loadAverage } from './measure';

/** The columns an import writes into `debtors` (the id and created_at come from their defaults, as in Tether's insert). */
const DEBTOR_COLUMNS = 'iban, bic, name, name_original, email, address, mandate_reference, mandate_date, external_reference, upload_id, upload_row';

/** Runs psql with its commands, each as a `-c`, in one transaction when `singleTransaction`; answers its wall time. */
async function psql(databaseUrl: string, commands: string[], options: { singleTransaction: boolean; applicationName?: string }): Promise<number> {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...(options.singleTransaction ? ['--single-transaction'] : []), ...commands.flatMap((command) => ['-c', command]), databaseUrl];
  const started = performance.now();
  const child = spawn('psql', args, {
    env: { ...process.env, ...(options.applicationName ? { PGAPPNAME: options.applicationName } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`psql exited with ${code}: ${errors.trim()}`);
  return Math.round(performance.now() - started);
}

/** The debtors an upload wrote, in COPY's text format: the floor's prepared rows. */
export async function dumpImportedDebtors(databaseUrl: string, uploadId: string, path: string): Promise<void> {
  await psql(databaseUrl, [`\\copy (select ${DEBTOR_COLUMNS} from debtors where upload_id = '${uploadId}' order by upload_row) to '${path}'`], { singleTransaction: false });
}

/** Named per benchmark process, so that a floor running in another benchmark at the same time is not counted in. */
const FLOOR_APPLICATION_NAME = `tether-bench-floor-${process.pid}`;

/**
 * The floor for `rows` prepared debtor rows of upload `uploadId` (dumped by dumpImportedDebtors)
 * in `databaseUrl`, a freshly migrated database. Answers its wall time and the PostgreSQL CPU it took.
 */
export async function measureFloor(databaseUrl: string, uploadId: string, preparedRows: string, expectedRows: number) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`insert into uploads (id, file_key, original_name, status) values ($1, $2, 'floor.csv', 'processing')`, [uploadId, `floor/${uploadId}`]);
    const cpu = new CpuAccount(FLOOR_APPLICATION_NAME, client);
    await cpu.start();
    // Sampled every 100 ms while psql runs, one sample at a time on the one connection.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await cpu.sample().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    let floorMs: number;
    try {
      floorMs = await psql(
        databaseUrl,
        [
          `\\copy debtors (${DEBTOR_COLUMNS}) from '${preparedRows}'`,
          // An amount per row (the dump has none: debtors carry no amount); the same bigint either way.
          `insert into billing_attempts (transaction_id, debtor_id, upload_id, amount_cents)
           select upload_id || '-' || upload_row, id, upload_id, 100 + upload_row % 30000 from debtors where upload_id = '${uploadId}'`,
        ],
        { singleTransaction: true, applicationName: FLOOR_APPLICATION_NAME },
      );
    } finally {
      sampling = false;
      await sampler;
    }
    const { rows } = await client.query<{ debtors: number; attempts: number }>(
      'select (select count(*) from debtors)::int as debtors, (select count(*) from billing_attempts)::int as attempts',
    );
    if (rows[0]!.debtors !== expectedRows || rows[0]!.attempts !== expectedRows) {
      throw new Error(`floor wrote ${rows[0]!.debtors} debtors and ${rows[0]!.attempts} attempts, not ${expectedRows} of each`);
    }
    // Up to one sampling interval of the backend's last stretch is missed.
    return { floorMs, floorPostgresCpuSeconds: cpu.totals().postgresCpuSeconds, floorRows: expectedRows, floorLoadAverage: loadAverage() };
  } finally {
    await client.end();
  }
}
