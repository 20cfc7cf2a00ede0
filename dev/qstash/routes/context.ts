import type pg from 'pg';
import type { NewMessage, PublishResult } from '../message-insert';
import type { MessageSpec } from '../message-spec';

/** What the route handlers need from the running server. */
export interface ApiContext {
  pool: pg.Pool;
  signingKeys: { current: string; next: string };
  /** The acknowledge path's insert, shared with concurrent publishes (see PublishBatcher). */
  insert(message: NewMessage): Promise<PublishResult>;
  /** Tells the delivery loop about a new message due at `notBefore`. */
  published(spec: MessageSpec, notBefore: number): void;
  /** Asks the delivery loop to look again, e.g. after a queue was resumed. */
  wake(): void;
}

export type RouteHandler = (request: Request, context: ApiContext, params: string[]) => Promise<Response>;

/** Multi-valued query parameters, repeated or comma-separated, as QStash accepts them. */
export function queryValues(url: URL, name: string, options: { commaSeparated?: boolean } = {}): string[] | undefined {
  const raw = url.searchParams.getAll(name);
  const values = options.commaSeparated === false ? raw : raw.flatMap((value) => value.split(','));
  const present = values.map((value) => value.trim()).filter(Boolean);
  return present.length > 0 ? present : undefined;
}

export function queryNumber(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  return value === null || value === '' || Number.isNaN(Number(value)) ? undefined : Number(value);
}
