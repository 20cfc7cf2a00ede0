import { createTestDatabase, type TestDatabase } from '../../../dev/testing/postgres';
import { applyMigrations, openDatabase, type DatabaseHandle } from '../../src/db/client';

export interface MigratedTestDatabase extends DatabaseHandle {
  url: string;
  /** Closes the pool and drops the database. */
  destroy(): Promise<void>;
}

/** A fresh database with every migration applied, for one test file. */
export async function createMigratedDatabase(): Promise<MigratedTestDatabase> {
  const database: TestDatabase = await createTestDatabase();
  const handle = openDatabase(database.url, { maxConnections: 5 });
  await applyMigrations(handle.pool);
  return {
    ...handle,
    url: database.url,
    destroy: async () => {
      await handle.close();
      await database.drop();
    },
  };
}
