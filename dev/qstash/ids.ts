import { randomBytes } from 'node:crypto';

/** Ids shaped like QStash's (a type prefix and random characters), unique across instances. */
export const newId = (prefix: 'msg' | 'dlq' | 'scd' | 'jwt') => `${prefix}_${randomBytes(16).toString('base64url')}`;
