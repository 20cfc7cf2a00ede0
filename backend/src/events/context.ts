import type { Database } from '../db/client';
import type { Logger } from '../log';
import type { Services } from '../services';
import { eventMetrics, type EventMetrics } from './metrics';

/** What applying an event needs; one per process, shared by the route, the CLI and other callers. */
export interface EventContext {
  /** The pool: each event commits in a transaction of its own. */
  db: Database;
  log: Logger;
  metrics: EventMetrics;
  /** Reason codes whose chargeback blacklists the debtor's IBAN (CHARGEBACK_BLACKLIST_CODES). */
  blacklistCodes: ReadonlySet<string>;
  /** PERSONAL_DATA_KEY: blacklist entries carry their IBAN's keyed hash (blacklist/blacklist.ts). */
  personalDataKey: string;
}

export function eventContext(services: Pick<Services, 'config' | 'database' | 'log' | 'metrics'>): EventContext {
  return {
    db: services.database.db,
    log: services.log.child({ component: 'events' }),
    metrics: eventMetrics(services.metrics),
    blacklistCodes: new Set(services.config.chargebackBlacklistCodes),
    personalDataKey: services.config.personalData.key,
  };
}
