/**
 * EMP (Genesis) notifications: what the edge accepts, how it names an event for deduplication,
 * what it answers, and how the backend reads an event's meaning. See ../shared/emp-genesis.md §5–6.
 */
import { z } from 'zod';

/** Upper bound on a notification body; real ones are a few kilobytes. */
export const MAX_NOTIFICATION_BYTES = 16 * 1024;

const MAX_ID_LENGTH = 255;
const field = z.string().trim().max(2048);
const id = z.string().trim().min(1).max(MAX_ID_LENGTH);

/**
 * The raw fields of a notification after form or JSON decoding. Unknown fields are kept.
 * Whatever passes here can be identified (`identifyNotification` does not throw on it).
 */
export const notificationFieldsSchema = z
  .record(z.string(), field)
  .refine((fields) => Boolean(fields.unique_id || fields.wpf_unique_id), {
    message: 'unique_id or wpf_unique_id is required',
  })
  .refine((fields) => (fields.unique_id || fields.wpf_unique_id || '').length <= MAX_ID_LENGTH, {
    message: `unique_id is longer than ${MAX_ID_LENGTH} characters`,
  })
  .refine((fields) => Boolean(fields.signature), { message: 'signature is required' });

export type NotificationFields = Record<string, string>;

export type NotificationKind = 'api' | 'wpf';

export interface NotificationIdentity {
  kind: NotificationKind;
  /** The id the signature covers and the echo repeats: unique_id, or wpf_unique_id for WPF. */
  id: string;
  /** Deduplication key: a retry of the same event has the same key; a new status or a chargeback does not. */
  dedupKey: string;
}

/** Decides the notification kind the way the PHP SDK does: unique_id first, then wpf_unique_id. */
export function identifyNotification(fields: NotificationFields): NotificationIdentity {
  const kind: NotificationKind = fields.unique_id ? 'api' : 'wpf';
  const notificationId = id.parse(kind === 'api' ? fields.unique_id : fields.wpf_unique_id);
  const type = kind === 'api' ? (fields.transaction_type ?? '') : (fields.payment_transaction_transaction_type ?? '');
  const status = kind === 'api' ? (fields.status ?? fields.notification_status ?? '') : (fields.wpf_status ?? '');
  const parts = [kind, notificationId, type, fields.event ?? '', status].map((part) => escapeKeyPart(part.toLowerCase()));
  return { kind, id: notificationId, dedupKey: `emp:${parts.join(':')}` };
}

/** Keeps the key unambiguous: a part containing ':' cannot pass for two parts. */
function escapeKeyPart(part: string): string {
  return part.replace(/[%:]/g, (char) => (char === '%' ? '%25' : '%3A'));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The body Genesis waits for before it stops resending a notification. */
export function notificationEcho(identity: Pick<NotificationIdentity, 'kind' | 'id'>): string {
  const element = identity.kind === 'api' ? 'unique_id' : 'wpf_unique_id';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<notification_echo>\n  <${element}>${escapeXml(identity.id)}</${element}>\n</notification_echo>\n`;
}

/** What the edge forwards to the backend through QStash for every accepted notification. */
export const forwardedEventSchema = z.object({
  version: z.literal(1),
  dedupKey: z.string().min(1).max(600),
  receivedAt: z.iso.datetime(),
  traceId: z.string().min(1).max(128),
  fields: z.record(z.string(), z.string()),
});

export type ForwardedEvent = z.infer<typeof forwardedEventSchema>;
