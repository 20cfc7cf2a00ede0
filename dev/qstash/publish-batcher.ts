/**
 * Coalesces concurrent publishes into shared INSERT statements. With a statement slot free, a
 * publish goes out at once, alone; only while every slot waits on the database do new publishes
 * queue, and then they go out together in the next statement. Each publish is answered once the
 * statement that carried it has committed.
 */
import type pg from 'pg';
import { insertMessages, type NewMessage, type PublishResult } from './message-insert';

interface Pending {
  message: NewMessage;
  resolve: (result: PublishResult) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

export class PublishBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly maxStatements: number,
  ) {}

  insert(message: NewMessage): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxStatements && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    try {
      const results = await insertMessages(
        this.pool,
        batch.map((pending) => pending.message),
      );
      for (const [index, pending] of batch.entries()) pending.resolve(results[index]!);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
