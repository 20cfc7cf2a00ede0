/**
 * Finance reports benchmark (see bench/README.md, "Reports"):
 *
 *   npm run bench:reports -- [--attempts 1000000] [--repeat 5]
 *
 * Seeds a throw-away database with --attempts billing attempts (each its own debtor, one upload,
 * sent over the last twelve months in the statuses and reason codes of a real book), then
 * measures, each beside its floor in the same run:
 * - the monthly report (reports/figures.ts figuresByMonth) and the chargeback ratio series, in
 *   milliseconds, best and median of --repeat; floor: psql's COPY ... TO STDOUT of the columns
 *   the report reads, for every attempt;
 * - the export of all attempts of the upload (reports/exports.ts attemptsCsv, written to a byte
 *   counter), in rows/s, with the process's RSS sampled as it streams; floor: psql's COPY ... TO
 *   STDOUT (FORMAT csv) of the same rows and columns.
 * Results are printed and written to bench/results/tmp/reports-<time>.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { createTestDatabase } from '../../dev/testing/postgres';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import { chargebackRatios } from '../../backend/src/reports/chargeback-ratio';
import { attemptsCsv } from '../../backend/src/reports/exports';
import { figuresByMonth } from '../../backend/src/reports/figures';

const { values: args } = parseArgs({ options: { attempts: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '5' } } });
const attempts = Number(args.attempts);
const repeat = Number(args.repeat);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number) => Math.round(value * 10) / 10;

/** Runs psql with one COPY ... TO STDOUT and discards its output; answers the wall time in ms. */
function psqlCopy(url: string, copy: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', copy], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', (error) => reject(new Error(`psql could not start (install postgresql-client): ${error.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`psql exited with ${code}`))));
  });
}

async function timed(work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < repeat; run += 1) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times;
}

const database = await createTestDatabase('tether_bench_reports');
const handle = openDatabase(database.url, { maxConnections: 4 });
try {
  await applyMigrations(handle.pool);
  const seedStarted = performance.now();
  const [upload] = (
    await handle.db.execute<{ id: string }>(sql`insert into uploads (file_key, original_name, status) values ('bench/reports.csv', 'reports.csv', 'completed') returning id`)
  ).rows;
  await handle.db.execute(sql`
    insert into debtors (iban, name, name_original, mandate_reference, upload_id, upload_row)
    select 'DE' || lpad((n % 97)::text, 2, '0') || lpad(n::text, 18, '0'), 'Debtor ' || n, 'Debtor ' || n, 'MANDATE-' || n, ${upload!.id}::uuid, n + 1
      from generate_series(1, ${attempts}) n`);
  // A book: mostly approved; declines (AM04, AC04, MS03), chargebacks (MD06, MD01, AM04) with
  // their history entry, refunds, a few outstanding and cancelled; sent over twelve months.
  await handle.db.execute(sql`
    insert into billing_attempts (transaction_id, debtor_id, upload_id, amount_cents, status, error_code, sent_at, history)
    select 'tth_bench_' || d.id, d.id, ${upload!.id}::uuid, 500 + (d.id % 9500),
           s.status, s.code, s.sent_at,
           case when s.status in ('chargebacked', 'chargeback_reversed')
                then jsonb_build_array(jsonb_build_object('at', s.sent_at + interval '9 days', 'source', 'emp_event', 'from', 'approved', 'to', 'chargebacked'))
                else '[]'::jsonb end
      from debtors d
      cross join lateral (
        select case
                 when d.id % 100 < 80 then 'approved'
                 when d.id % 100 < 88 then 'declined'
                 when d.id % 100 < 90 then 'error'
                 when d.id % 100 < 93 then 'chargebacked'
                 when d.id % 100 = 93 then 'chargeback_reversed'
                 when d.id % 100 < 96 then 'refunded'
                 when d.id % 100 < 98 then 'submitted'
                 else 'cancelled' end as status,
               case
                 when d.id % 100 between 80 and 89 then (array['AM04', 'AC04', 'MS03'])[1 + d.id % 3]
                 when d.id % 100 between 90 and 93 then (array['MD06', 'MD01', 'AM04'])[1 + d.id % 3]
               end as code,
               case when d.id % 100 >= 98 then null else now() - make_interval(secs => (d.id % 31536000)) end as sent_at
      ) s`);
  await handle.pool.query('vacuum analyze billing_attempts, debtors');
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  console.log(`seeded ${attempts} attempts in ${round(seedSeconds)} s`);

  const reportFloor = await timed(() =>
    psqlCopy(database.url, `copy (select coalesce(sent_at, created_at), currency, status, error_code, amount_cents from billing_attempts) to stdout`),
  );
  const report = await timed(() => figuresByMonth(handle.db));
  const ratio = await timed(() => chargebackRatios(handle.db));

  const exportFloor = await timed(() =>
    psqlCopy(
      database.url,
      `copy (select a.id, a.transaction_id, a.emp_unique_id, a.upload_id, a.billing_run_id, a.attempt_number, a.created_at, a.sent_at, a.status,
                    a.amount_cents, a.currency, a.error_code, a.error_message, d.iban, d.mandate_reference, d.external_reference
               from billing_attempts a join debtors d on d.id = a.debtor_id where a.upload_id = '${upload!.id}' order by a.id) to stdout (format csv)`,
    ),
  );
  const exports: { ms: number; rows: number; bytes: number; rssMb: number[] }[] = [];
  for (let run = 0; run < Math.min(repeat, 3); run += 1) {
    const rssMb: number[] = [];
    let bytes = 0;
    let rows = 0;
    const started = performance.now();
    for await (const chunk of attemptsCsv(handle.pool, { uploadId: upload!.id })) {
      bytes += chunk.length;
      for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) rows += 1;
      if (rows % 100_000 < 5_000) rssMb.push(round(process.memoryUsage().rss / 2 ** 20));
    }
    exports.push({ ms: performance.now() - started, rows: rows - 1, bytes, rssMb });
  }

  const best = (times: number[]) => round(Math.min(...times));
  const result = {
    attempts,
    seedSeconds: round(seedSeconds),
    monthlyReport: { bestMs: best(report), medianMs: round(median(report)), floorBestMs: best(reportFloor), ratioToFloor: round((Math.min(...report) / Math.min(...reportFloor)) * 100) / 100 },
    chargebackRatio: { bestMs: best(ratio), medianMs: round(median(ratio)) },
    export: {
      rows: exports[0]!.rows,
      megabytes: round(exports[0]!.bytes / 2 ** 20),
      bestMs: best(exports.map((run) => run.ms)),
      rowsPerSecond: Math.round(exports[0]!.rows / (Math.min(...exports.map((run) => run.ms)) / 1000)),
      floorBestMs: best(exportFloor),
      floorRowsPerSecond: Math.round(attempts / (Math.min(...exportFloor) / 1000)),
      timesFloor: round((Math.min(...exports.map((run) => run.ms)) / Math.min(...exportFloor)) * 100) / 100,
      rssMbWhileStreaming: exports.at(-1)!.rssMb,
    },
    loadAverage: loadavg(),
  };
  console.log(JSON.stringify(result, null, 2));
  const directory = fileURLToPath(new URL('../results/tmp/', import.meta.url));
  mkdirSync(directory, { recursive: true });
  const file = `${directory}reports-${new Date().toISOString().replace(/:/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`results written to ${file}`);
} finally {
  await handle.close();
  await database.drop();
}
