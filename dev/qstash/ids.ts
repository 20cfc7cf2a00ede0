import { randomUUID } from 'node:crypto';

/**
 * Ids shaped like QStash's (a type prefix and random characters), unique across instances.
 * randomUUID draws from a buffered entropy pool, which keeps the publish path free of a syscall.
 */
export const newId = (prefix: 'msg' | 'dlq' | 'scd' | 'jwt') =>
  `${prefix}_${Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url')}`;
