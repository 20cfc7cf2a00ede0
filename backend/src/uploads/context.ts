import type { Client as QStashClient } from '@upstash/qstash';
import type { Database } from '../db/client';
import type { Services } from '../services';
import type { UploadProcessingContext } from './process-upload';

/** What the upload routes need; one per process, made from the services. */
export interface UploadContext extends UploadProcessingContext {
  db: Database;
  qstash: QStashClient;
  /** How QStash and browsers reach this backend. */
  publicUrl: string;
}

export function uploadContext(services: Pick<Services, 'config' | 'database' | 'log' | 'qstash' | 'storage'>): UploadContext {
  return {
    db: services.database.db,
    database: services.database,
    storage: services.storage,
    qstash: services.qstash,
    limits: services.config.uploads,
    personalDataKey: services.config.personalData.key,
    log: services.log.child({ component: 'uploads' }),
    publicUrl: services.config.http.publicUrl,
  };
}
