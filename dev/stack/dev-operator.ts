/**
 * `npm start` can be logged into at once: on a database without operators it creates one for
 * development (an admin), whose credentials the banner prints. Only the dev stack calls this; production
 * operators are created with `npm run tether -- operators:create <email>`.
 */
import { count } from 'drizzle-orm';
import { systemActor } from '../../backend/src/audit/actor';
import { createOperator } from '../../backend/src/auth/operators';
import { openDatabase } from '../../backend/src/db/client';
import { operators } from '../../backend/src/db/schema';

export const DEV_OPERATOR = { email: 'dev@tether.local', password: 'tether-dev-password' } as const;

/** What the banner says about logging in. Call once the backend has applied the migrations. */
export async function ensureDevOperator(databaseUrl: string): Promise<string> {
  const database = openDatabase(databaseUrl, { maxConnections: 1 });
  try {
    const [existing] = await database.db.select({ operators: count() }).from(operators);
    if ((existing?.operators ?? 0) > 0) return 'an existing operator (npm run tether -- operators:list)';
    await createOperator(database.db, { ...DEV_OPERATOR, role: 'admin' }, systemActor('npm start'));
    return `${DEV_OPERATOR.email} / ${DEV_OPERATOR.password}`;
  } finally {
    await database.close();
  }
}
