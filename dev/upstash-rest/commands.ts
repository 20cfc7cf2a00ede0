/**
 * Turns the REST request forms Upstash accepts (a JSON command array, a pipeline of them, or a
 * command spelled in the URL path) into Redis commands, leaving their meaning entirely to Redis.
 */
export type RedisArgument = string | Buffer;

export interface RedisCommand {
  /** Upper-cased: ioredis applies client-side reply transformers to some lower-case names
   * (hgetall becomes an object), and the reply must stay exactly what Redis sent. */
  name: string;
  args: RedisArgument[];
}

/** The request cannot be turned into commands; answered with HTTP 400 like Upstash does. */
export class InvalidRequestError extends Error {}

/**
 * Every request shares one Redis connection, so commands that change that connection's state or
 * block it would leak into, or stall, every other caller.
 */
const UNAVAILABLE_COMMANDS = new Set([
  'AUTH', 'HELLO', 'SELECT', 'RESET', 'QUIT', 'CLIENT', 'READONLY', 'READWRITE',
  'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH',
  'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE',
  'MONITOR', 'SYNC', 'PSYNC', 'REPLCONF',
  'BLPOP', 'BRPOP', 'BRPOPLPUSH', 'BLMOVE', 'BLMPOP', 'BZPOPMIN', 'BZPOPMAX', 'BZMPOP', 'WAIT', 'WAITAOF',
]);

function isBlockingStreamRead(name: string, args: RedisArgument[]): boolean {
  if (name !== 'XREAD' && name !== 'XREADGROUP') return false;
  for (const arg of args) {
    const word = arg.toString().toUpperCase();
    if (word === 'STREAMS') return false;
    if (word === 'BLOCK') return true;
  }
  return false;
}

function toCommand(name: string, args: RedisArgument[]): RedisCommand {
  const upperName = name.toUpperCase();
  if (UNAVAILABLE_COMMANDS.has(upperName) || isBlockingStreamRead(upperName, args)) {
    throw new InvalidRequestError(
      `ERR Command is not available: '${name}' (it would block or change the Redis connection all requests share)`,
    );
  }
  return { name: upperName, args };
}

function toArgument(value: unknown): string {
  if (typeof value === 'string') return value;
  // The official client sends numbers and booleans unquoted, e.g. ["SET", "k", "v", "EX", 10].
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new InvalidRequestError(`ERR command arguments must be strings, numbers or booleans, got ${JSON.stringify(value)}`);
}

/** `["SET", "k", "v", "EX", 10]` */
export function parseJsonCommand(value: unknown): RedisCommand {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== 'string' || value[0] === '') {
    throw new InvalidRequestError('ERR a command must be a non-empty JSON array starting with the command name');
  }
  const [name, ...args] = value;
  return toCommand(name, args.map(toArgument));
}

/** `[["SET", "k", "v"], ["INCR", "n"]]`, for /pipeline and /multi-exec */
export function parseJsonCommandList(value: unknown): RedisCommand[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError('ERR expected a non-empty JSON array of commands');
  }
  return value.map(parseJsonCommand);
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestError(`ERR malformed percent-encoding in the request path: ${segment}`);
  }
}

/**
 * `/set/foo/bar?EX=100`: path segments first, then a non-empty request body as one binary-safe
 * argument (Upstash's way to send binary values), then the query parameters as name/value pairs.
 */
export function parsePathCommand(url: URL, body: Buffer): RedisCommand {
  const segments = url.pathname.slice(1).split('/').map(decodePathSegment);
  const [name, ...args] = segments;
  if (!name) throw new InvalidRequestError('ERR no command in the request path');
  const allArgs: RedisArgument[] = [...args];
  if (body.length > 0) allArgs.push(body);
  for (const [key, value] of url.searchParams) {
    if (key === '_token') continue;
    allArgs.push(key);
    if (value !== '') allArgs.push(value);
  }
  return toCommand(name, allArgs);
}
