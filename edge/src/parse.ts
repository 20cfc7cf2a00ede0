/**
 * Turns a notification body into its fields. Genesis posts application/x-www-form-urlencoded;
 * JSON (an object of strings, numbers or booleans) is accepted for tools and simulators. Keys
 * are trimmed as the PHP and Ruby SDKs do; values are trimmed by the schema.
 */
import { notificationFieldsSchema, type NotificationFields } from '@tether/shared/notification';

export type ParsedNotification = { ok: true; fields: NotificationFields } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeForm(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const name = key.trim();
    if (name) fields[name] = value;
  }
  return fields;
}

function decodeJson(text: string): Record<string, string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const fields: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) {
    if (typeof field !== 'string' && typeof field !== 'number' && typeof field !== 'boolean') return undefined;
    const name = key.trim();
    if (name) fields[name] = String(field);
  }
  return fields;
}

export function parseNotification(bytes: Uint8Array, contentType: string | undefined): ParsedNotification {
  const text = decodeText(bytes);
  if (text === undefined) return { ok: false, reason: 'body is not UTF-8' };
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const isJson = mediaType === 'application/json' || mediaType.endsWith('+json');
  if (mediaType.startsWith('multipart/')) return { ok: false, reason: 'multipart bodies are not accepted' };

  const raw = isJson ? decodeJson(text) : decodeForm(text);
  if (!raw) return { ok: false, reason: 'body is not a JSON object of strings' };
  const result = notificationFieldsSchema.safeParse(raw);
  if (!result.success) {
    const reasons = result.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
    return { ok: false, reason: reasons.join('; ') };
  }
  return { ok: true, fields: result.data };
}
