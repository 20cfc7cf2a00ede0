import type { Client as QStashClient } from '@upstash/qstash';
import type pg from 'pg';
import { authContext, type AuthContext } from '../auth/context';
import type { BillingContext } from '../billing/context';
import type { Config } from '../config';
import type { Database } from '../db/client';
import { eventContext, type EventContext } from '../events/context';
import type { HealthProbe } from '../http/health';
import type { Logger } from '../log';
import { personalDataContext, type PersonalDataContext } from '../personal-data/context';
import type { Services } from '../services';
import { uploadContext, type UploadContext } from '../uploads/context';

/** What the pages need: the database for reading, and the other concerns' contexts for acting. */
export interface DashboardContext {
  db: Database;
  /** For what drizzle does not do: the exports' cursors. */
  pool: pg.Pool;
  log: Logger;
  auth: AuthContext;
  uploads: UploadContext;
  events: EventContext;
  qstash: QStashClient;
  /** The process's one billing context: its circuit breaker guards every batch this node sends. */
  billing: BillingContext;
  /** Erasure and retention: the database, stored files and PERSONAL_DATA_KEY. */
  personalData: PersonalDataContext;
  /** The same probes as GET /health, with what only operators see: each dependency's state and error. */
  health: HealthProbe;
  reports: Config['reports'];
}

export function dashboardContext(services: Services, billing: BillingContext, health: HealthProbe): DashboardContext {
  return {
    db: services.database.db,
    pool: services.database.pool,
    log: services.log.child({ component: 'dashboard' }),
    auth: authContext(services),
    uploads: uploadContext(services),
    events: eventContext(services),
    qstash: services.qstash,
    billing,
    personalData: personalDataContext(services),
    health,
    reports: services.config.reports,
  };
}
