/**
 * The benchmark's notification traffic: mostly new events, some resends of earlier ones (EMP
 * retrying), some with a bad signature; and the bookkeeping that proves afterwards that every
 * acknowledged event reached the backend exactly once.
 */
import { identifyNotification } from '@tether/shared/notification';
import { createHash, randomBytes } from 'node:crypto';

export interface Mix {
  duplicateShare: number;
  badSignatureShare: number;
}

export interface SentEvent {
  uniqueId: string;
  dedupKey: string;
  body: string;
  validSignature: boolean;
}

/** `resend`: sent again after the run because it was never echoed, as EMP would. */
export type Kind = 'new' | 'duplicate' | 'badSignature' | 'resend';

/** Resends are drawn from the last this-many new events, as EMP retries soon after a miss. */
const RECENT_EVENTS = 1_000;

export class Traffic {
  /** Dedup keys of validly signed events the edge echoed. */
  readonly acknowledged = new Set<string>();
  /** Validly signed events sent but not echoed yet (in flight, or answered 5xx): EMP would resend them. */
  readonly awaitingEcho = new Map<string, SentEvent>();
  /** Counted when answered: autocannon prepares a few requests it never sends. */
  readonly sent: Record<Kind, number> = { new: 0, duplicate: 0, badSignature: 0, resend: 0 };
  readonly answered = { echo: 0, badSignatureRefused: 0, retryLater: 0, unexpected: 0, wrongEcho: 0 };
  private readonly recent: SentEvent[] = [];

  constructor(
    private readonly password: string,
    private readonly mix: Mix,
  ) {}

  next(): { kind: Kind; event: SentEvent } {
    const draw = Math.random();
    if (draw < this.mix.badSignatureShare) return { kind: 'badSignature', event: this.newEvent(false) };
    if (draw < this.mix.badSignatureShare + this.mix.duplicateShare && this.recent.length > 0) {
      return { kind: 'duplicate', event: this.recent[Math.floor(Math.random() * this.recent.length)]! };
    }
    const event = this.newEvent(true);
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    return { kind: 'new', event };
  }

  /** Called as a request goes out. */
  sending(event: SentEvent): void {
    if (event.validSignature && !this.acknowledged.has(event.dedupKey)) this.awaitingEcho.set(event.dedupKey, event);
  }

  record(kind: Kind, event: SentEvent, status: number, body: string): void {
    this.sent[kind] += 1;
    if (!event.validSignature) {
      if (status === 401) this.answered.badSignatureRefused += 1;
      else this.answered.unexpected += 1;
      return;
    }
    if (status === 200) {
      this.answered.echo += 1;
      if (!body.includes(`<unique_id>${event.uniqueId}</unique_id>`)) this.answered.wrongEcho += 1;
      this.acknowledged.add(event.dedupKey);
      this.awaitingEcho.delete(event.dedupKey);
    } else if (status === 503) {
      this.answered.retryLater += 1;
    } else {
      this.answered.unexpected += 1;
    }
  }

  private newEvent(validSignature: boolean): SentEvent {
    const uniqueId = randomBytes(16).toString('hex');
    const signature = createHash('sha1')
      .update(uniqueId + (validSignature ? this.password : 'not-the-password'))
      .digest('hex');
    const fields = {
      transaction_id: `tm_bench_${uniqueId.slice(0, 12)}`,
      terminal_token: 'e4de7c9d4ea4bccea3cac90190e2ea0be8ad7610',
      unique_id: uniqueId,
      transaction_type: 'sdd_sale',
      status: 'approved',
      amount: '4990',
      currency: 'EUR',
      bank_account_number: 'DE89370400440532013000',
      bank_identifier_code: 'COBADEFFXXX',
      account_holder: 'Travis Pastrana',
      first_name: 'Travis',
      last_name: 'Pastrana',
      customer_email: 'travis@example.com',
      city: 'Berlin',
      country: 'DE',
      signature,
    };
    return {
      uniqueId,
      dedupKey: identifyNotification(fields).dedupKey,
      body: new URLSearchParams(fields).toString(),
      validSignature,
    };
  }
}
