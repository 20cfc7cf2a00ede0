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

export type NotificationFields = Record<string, string>;

/**
 * api: a processing transaction's (unique_id); wpf: a Web Payment Form's (wpf_unique_id); kyc: a
 * KYC service execution (reference_id); apm: an APM external event (payment_transaction_unique_id).
 * Tether acts on api and wpf only, but Genesis resends every kind until it is echoed.
 */
export type NotificationKind = 'api' | 'wpf' | 'kyc' | 'apm';

interface KindRule {
  kind: NotificationKind;
  /** The field holding the id the signature covers; the echo repeats it under the same name. */
  idField: string;
  /** Only a notification of this notification_type is of this kind (none: its id field decides). */
  notificationType?: string;
  /** What tells two events about the same id apart; a retry repeats them, a new event does not. */
  eventParts(fields: NotificationFields): string[];
}

/**
 * In the order the SDKs try them (emp-genesis.md §5.2): the PHP SDK takes unique_id, then
 * wpf_unique_id, then reference_id; the .NET SDK adds APM events, by their notification_type
 * since WPF notifications carry a payment_transaction_unique_id too.
 */
const KIND_RULES: readonly KindRule[] = [
  {
    kind: 'api',
    idField: 'unique_id',
    // notification_status is the Java SDK's name for status.
    eventParts: (f) => [f.transaction_type ?? '', f.event ?? '', f.status ?? f.notification_status ?? ''],
  },
  {
    kind: 'wpf',
    idField: 'wpf_unique_id',
    eventParts: (f) => [f.payment_transaction_transaction_type ?? '', f.event ?? '', f.wpf_status ?? ''],
  },
  { kind: 'kyc', idField: 'reference_id', eventParts: (f) => [f.status ?? ''] },
  {
    kind: 'apm',
    idField: 'payment_transaction_unique_id',
    notificationType: 'apm_external_event',
    // APM events have no status; their category and code are what changes from one to the next.
    eventParts: (f) => [f.category ?? '', f.code ?? ''],
  },
];

export const NOTIFICATION_KINDS: readonly NotificationKind[] = KIND_RULES.map((rule) => rule.kind);

const ruleOf = (kind: NotificationKind) => KIND_RULES.find((rule) => rule.kind === kind)!;

/** The first rule that claims these fields, or undefined when they carry none of the ids. */
function ruleFor(fields: NotificationFields): KindRule | undefined {
  return KIND_RULES.find(
    (rule) => Boolean(fields[rule.idField]) && (!rule.notificationType || fields.notification_type === rule.notificationType),
  );
}

/** The element that names a notification's id, in the fields and in the echo, by kind. */
export const notificationIdElement = (kind: NotificationKind): string => ruleOf(kind).idField;

/**
 * The raw fields of a notification after form or JSON decoding. Unknown fields are kept.
 * Whatever passes here can be identified (`identifyNotification` does not throw on it).
 */
export const notificationFieldsSchema = z
  .record(z.string(), field)
  .refine((fields) => ruleFor(fields) !== undefined, {
    message: 'unique_id, wpf_unique_id, reference_id or an apm_external_event\'s payment_transaction_unique_id is required',
  })
  .refine((fields) => (fields[ruleFor(fields)?.idField ?? ''] ?? '').length <= MAX_ID_LENGTH, {
    message: `the notification's id is longer than ${MAX_ID_LENGTH} characters`,
  })
  .refine((fields) => Boolean(fields.signature), { message: 'signature is required' });

export interface NotificationIdentity {
  kind: NotificationKind;
  /** The id the signature covers and the echo repeats (see KIND_RULES). */
  id: string;
  /** Deduplication key: a retry of the same event has the same key; a new status or a chargeback does not. */
  dedupKey: string;
}

/** Decides the notification kind the way the SDKs do (see KIND_RULES); throws on fields the schema refuses. */
export function identifyNotification(fields: NotificationFields): NotificationIdentity {
  const rule = ruleFor(fields);
  if (!rule) throw new Error('the notification carries none of the ids');
  const notificationId = id.parse(fields[rule.idField]);
  const parts = [rule.kind, notificationId, ...rule.eventParts(fields)].map((part) => escapeKeyPart(part.toLowerCase()));
  return { kind: rule.kind, id: notificationId, dedupKey: `emp:${parts.join(':')}` };
}

/**
 * The fields without the signature, which nothing after the edge's check needs: a stored
 * signature with its id is a credential anyone could replay to the edge.
 */
export function withoutSignature(fields: NotificationFields): NotificationFields {
  const { signature: _signature, ...rest } = fields;
  return rest;
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
  const element = notificationIdElement(identity.kind);
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
