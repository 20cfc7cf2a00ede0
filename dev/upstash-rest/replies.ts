/**
 * Redis replies (as ioredis hands them over in buffer mode) to the JSON values of the Upstash
 * REST protocol. With `Upstash-Encoding: base64` every string is base64 except a plain "OK",
 * which keeps binary values intact; without it strings are UTF-8 text, lossy for binary data
 * exactly as on Upstash.
 */
export type JsonReply = string | number | null | JsonReply[];

const OK = Buffer.from('OK');

function encodeString(value: Buffer, base64: boolean): string {
  if (!base64) return value.toString('utf8');
  return value.equals(OK) ? 'OK' : value.toString('base64');
}

export function encodeReply(reply: unknown, base64: boolean): JsonReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'number') return reply;
  if (Buffer.isBuffer(reply)) return encodeString(reply, base64);
  if (typeof reply === 'string') return encodeString(Buffer.from(reply), base64);
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  // Errors nested in an array reply (e.g. a Lua script returning {err=...} inside a table).
  if (reply instanceof Error) return encodeString(Buffer.from(reply.message), base64);
  throw new TypeError(`Unexpected Redis reply of type ${typeof reply}`);
}
