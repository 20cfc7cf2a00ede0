import type { AuthSettings } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../log';
import type { Services } from '../services';

/** What logging in and checking sessions need; one per process. */
export interface AuthContext {
  db: Database;
  settings: AuthSettings;
  log: Logger;
}

export function authContext(services: Pick<Services, 'config' | 'database' | 'log'>): AuthContext {
  return { db: services.database.db, settings: services.config.auth, log: services.log.child({ component: 'auth' }) };
}
