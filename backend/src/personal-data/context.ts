import type { DatabaseHandle } from '../db/client';
import type { Logger } from '../log';
import type { Services } from '../services';
import type { ObjectStorage } from '../storage/object-storage';

/** What erasure and the retention sweep need: the database, the stored files and the keyed hash's key. */
export interface PersonalDataContext {
  database: DatabaseHandle;
  storage: ObjectStorage;
  log: Logger;
  /** PERSONAL_DATA_KEY (personal-data/keyed-hash.ts). */
  key: string;
}

export function personalDataContext(services: Pick<Services, 'config' | 'database' | 'log' | 'storage'>): PersonalDataContext {
  return {
    database: services.database,
    storage: services.storage,
    log: services.log.child({ component: 'personal-data' }),
    key: services.config.personalData.key,
  };
}
