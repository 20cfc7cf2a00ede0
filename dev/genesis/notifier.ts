/**
 * Delivers notifications the way Genesis does: a form-urlencoded POST, resent with backoff until
 * the merchant answers 2xx with a notification_echo naming the notification's id (parsed, not
 * byte-compared: SDKs differ in whitespace and declaration). For tests it can hold notifications
 * and release them in reverse order, and send every notification more than once.
 */
import { parseNotificationEcho } from '@tether/shared/genesis-xml';
import { z } from 'zod';
import type { Scheduler } from './scheduler';

const milliseconds = z.number().int().min(0);

export const notificationSettingsSchema = z.object({
  /** From a status change to its notification. */
  delayMs: milliseconds,
  retry: z.object({
    initialDelayMs: milliseconds,
    factor: z.number().min(1),
    maxDelayMs: milliseconds,
    maxAttempts: z.number().int().min(1),
  }),
  /** Per delivery attempt. */
  attemptTimeoutMs: milliseconds,
  /** Extra copies of every notification (duplicate delivery). */
  duplicates: z.number().int().min(0),
  /** Queue notifications instead of sending them, until released. */
  hold: z.boolean(),
  /**
   * How a chargeback is notified: as the reference's example, `event=chargeback` and status
   * `chargebacked` on the original sdd_sale; or as the PHP plan's `transaction_type=chargeback`
   * naming `original_transaction_unique_id`, which no source documents (kept as tolerated input).
   */
  chargebackShape: z.enum(['status_change', 'chargeback_transaction']),
  /**
   * Adds `rc_code` and `rc_description` to a status_change chargeback: the reference's notification
   * fields include them, its chargeback example does not (the Chargeback API has the reason).
   */
  reasonCodes: z.boolean(),
  /** Signs with a wrong password, for testing the receiver's rejection. */
  invalidSignatures: z.boolean(),
});

export type NotificationSettings = z.infer<typeof notificationSettingsSchema>;

export const notificationSettingsPatchSchema = notificationSettingsSchema
  .extend({ retry: notificationSettingsSchema.shape.retry.partial() })
  .partial();

export type NotificationSettingsPatch = z.infer<typeof notificationSettingsPatchSchema>;

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  delayMs: 1_000,
  // The real schedule is unknown (emp-genesis.md Q2); this one gives up after about an hour.
  retry: { initialDelayMs: 1_000, factor: 2, maxDelayMs: 10 * 60_000, maxAttempts: 15 },
  attemptTimeoutMs: 10_000,
  duplicates: 0,
  hold: false,
  chargebackShape: 'status_change',
  reasonCodes: false,
  invalidSignatures: false,
};

function withPatch(settings: NotificationSettings, patch: NotificationSettingsPatch): NotificationSettings {
  const defined = <T extends object>(object: T) => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
  return { ...settings, ...defined(patch), retry: { ...settings.retry, ...defined(patch.retry ?? {}) } };
}

export interface OutgoingNotification {
  url: string;
  /** The id the echo must repeat: the notification's unique_id. */
  id: string;
  fields: Record<string, string>;
}

export interface DeliveryAttempt {
  at: string;
  httpStatus?: number;
  error?: string;
  acknowledged: boolean;
}

export interface NotificationDelivery extends OutgoingNotification {
  sequence: number;
  state: 'held' | 'delivering' | 'acknowledged' | 'gave_up';
  attempts: DeliveryAttempt[];
}

export type ReleaseOrder = 'queued' | 'reversed';

export class Notifier {
  private readonly deliveryLog: NotificationDelivery[] = [];
  private held: NotificationDelivery[] = [];
  private sequence = 0;

  private settings: NotificationSettings;

  constructor(
    private readonly initial: NotificationSettingsPatch,
    private readonly scheduler: Scheduler,
    private readonly onAttempt: (delivery: NotificationDelivery, attempt: DeliveryAttempt) => void = () => {},
  ) {
    this.settings = withPatch(DEFAULT_NOTIFICATION_SETTINGS, initial);
  }

  settingsSnapshot(): NotificationSettings {
    return structuredClone(this.settings);
  }

  configure(settings: NotificationSettingsPatch): void {
    this.settings = withPatch(this.settings, settings);
    if (!this.settings.hold) void this.release('queued');
  }

  send(notification: OutgoingNotification): void {
    for (let copy = 0; copy <= this.settings.duplicates; copy++) {
      const delivery: NotificationDelivery = { ...notification, sequence: ++this.sequence, state: 'held', attempts: [] };
      this.deliveryLog.push(delivery);
      if (this.settings.hold) this.held.push(delivery);
      else void this.deliver(delivery);
    }
  }

  /**
   * Sends the held notifications one after another; each one's first attempt completes before
   * the next starts, so "reversed" really reaches the merchant out of order.
   */
  async release(order: ReleaseOrder): Promise<void> {
    const batch = order === 'reversed' ? [...this.held].reverse() : [...this.held];
    this.held = [];
    for (const delivery of batch) await this.deliver(delivery);
  }

  deliveries(): NotificationDelivery[] {
    return this.deliveryLog.map((delivery) => structuredClone(delivery));
  }

  /** Forgets every delivery and restores the initial settings. */
  clear(): void {
    this.deliveryLog.length = 0;
    this.held = [];
    this.settings = withPatch(DEFAULT_NOTIFICATION_SETTINGS, this.initial);
  }

  /** Resolves after the first attempt; retries continue in the background. */
  private deliver(delivery: NotificationDelivery): Promise<void> {
    delivery.state = 'delivering';
    return new Promise((firstAttemptDone) => {
      void this.retryUntilAcknowledged(delivery, firstAttemptDone);
    });
  }

  private async retryUntilAcknowledged(delivery: NotificationDelivery, firstAttemptDone: () => void): Promise<void> {
    const signal = this.scheduler.signal;
    for (let attempt = 1; ; attempt++) {
      const acknowledged = await this.attempt(delivery, signal);
      if (attempt === 1) firstAttemptDone();
      if (acknowledged) {
        delivery.state = 'acknowledged';
        return;
      }
      const { retry } = this.settings;
      if (attempt >= retry.maxAttempts || signal.aborted) {
        delivery.state = 'gave_up';
        return;
      }
      await this.scheduler.sleep(Math.min(retry.initialDelayMs * retry.factor ** (attempt - 1), retry.maxDelayMs));
    }
  }

  private async attempt(delivery: NotificationDelivery, signal: AbortSignal): Promise<boolean> {
    const attempt: DeliveryAttempt = { at: new Date().toISOString(), acknowledged: false };
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(delivery.fields),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.settings.attemptTimeoutMs)]),
      });
      attempt.httpStatus = response.status;
      const echo = parseNotificationEcho(await response.text());
      attempt.acknowledged = response.ok && echo?.kind === 'api' && echo.id === delivery.id;
    } catch (error) {
      attempt.error = (error as Error).message;
    }
    delivery.attempts.push(attempt);
    this.onAttempt(delivery, attempt);
    return attempt.acknowledged;
  }
}
