/**
 * One per node: confirms notifications soon after they are recorded (the delivery route wakes
 * it), and while any wait for a back-off, wakes itself when the next is due. Nothing lives only
 * here: a notification a dead node had claimed is due again when its lease ends, and every node's
 * reconciliation pass (on QStash's schedule) confirms whatever is due, so none waits forever.
 */
import type { BillingContext } from '../billing/context';
import { describeError } from '../events/describe-error';
import { confirmAllDue, nextConfirmationDue } from './confirm';

/** Looks again at least this often while notifications wait (leases of dead nodes end unseen). */
const MAX_SLEEP_MS = 30_000;
const MIN_SLEEP_MS = 50;

export class NotificationConfirmer {
  private running: Promise<void> | undefined;
  private wakeAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly context: BillingContext) {}

  /** Starts confirming now, or right after the round under way. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.wakeAgain) this.wake();
    });
  }

  /** Resolves once the work under way is done. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async drain(): Promise<void> {
    this.wakeAgain = false;
    try {
      await confirmAllDue(this.context);
      const due = await nextConfirmationDue(this.context);
      if (due && !this.closed) {
        const sleep = Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, due.getTime() - Date.now()));
        this.timer = setTimeout(() => this.wake(), sleep);
        this.timer.unref();
      }
    } catch (error) {
      this.context.log.error({ error: describeError(error) }, 'confirming notifications failed; trying again shortly');
      if (!this.closed) {
        this.timer = setTimeout(() => this.wake(), MAX_SLEEP_MS);
        this.timer.unref();
      }
    }
  }
}
