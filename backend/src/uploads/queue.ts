/**
 * Processing is queued through QStash, which delivers it to POST /qstash/uploads/process on
 * whichever backend node the load balancer picks, and retries (resuming from the checkpoint)
 * when a node dies mid-file.
 */
import type { Client as QStashClient } from '@upstash/qstash';

export const PROCESS_UPLOAD_PATH = '/qstash/uploads/process';

/** Enough for a database restart or a node replacement; each retry resumes where the last stopped. */
const DELIVERY_RETRIES = 5;

export interface ProcessUploadMessage {
  uploadId: string;
}

/**
 * Uploads beyond `parallelism` (all nodes together) wait in QStash until one finishes: a waiting
 * upload holds neither a request nor a database connection on any node.
 */
export async function queueProcessing(qstash: QStashClient, publicUrl: string, uploadId: string, parallelism: number): Promise<void> {
  const body: ProcessUploadMessage = { uploadId };
  await qstash.publishJSON({
    url: `${publicUrl}${PROCESS_UPLOAD_PATH}`,
    body,
    retries: DELIVERY_RETRIES,
    flowControl: { key: 'tether-uploads', parallelism },
  });
}
