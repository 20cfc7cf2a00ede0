/**
 * For the test project whose backend nodes reach PostgreSQL through pgBouncer in transaction mode
 * (vitest.config.ts): starts it once for the run; backendEnvironment and the upload helpers then
 * point the nodes' DATABASE_URL at it (nodeDatabaseUrl), while each test's own setup and checks
 * stay on direct connections.
 */
import { PGBOUNCER_ADDRESS_VARIABLE, startPgBouncer } from '../../../dev/testing/pgbouncer';

export default async function setup(): Promise<() => Promise<void>> {
  const pgbouncer = await startPgBouncer();
  process.env[PGBOUNCER_ADDRESS_VARIABLE] = pgbouncer.address;
  return () => pgbouncer.close();
}
