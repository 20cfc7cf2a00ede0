/**
 * Group commit for deliveries: an event arriving while earlier ones are committing waits for a
 * free slot and then shares one transaction with the others that waited (up to `maxBatch`). At
 * low load every event commits alone and at once; under load the batches grow, so one process
 * applies thousands of events a second instead of paying a transaction per event.
 *
 * Batches are gathered once per turn of the event loop, never inside a submit or a commit's
 * completion: when a batch commits, its callers answer and their next deliveries arrive in the
 * same turn. Taking a freed slot at once gave it to the first of them alone (at 256 deliveries in
 * flight more than half the transactions carried a single event); one turn later they all go
 * together. At low load that turn costs well under a millisecond.
 */
import type { EventContext } from './context';
import { describeError } from './describe-error';
import { processEvent, processEvents, type IncomingEvent, type ProcessResult } from './process';

interface Waiting {
  event: IncomingEvent;
  resolve(result: ProcessResult): void;
  reject(error: unknown): void;
}

export interface EventBatcherOptions {
  /** Events in one transaction at most. */
  maxBatch: number;
  /** Transactions at once; leave pool connections for everything else. */
  maxConcurrentBatches: number;
}

/** How a batch is committed: EMP's answers are applied; notifications are recorded to be confirmed. */
export interface EventCommitter {
  /** The events in one transaction; throws when it could not commit. */
  many(events: readonly IncomingEvent[]): Promise<ProcessResult[]>;
  /** One event alone; records it as failed where it can before throwing. */
  one(event: IncomingEvent): Promise<ProcessResult>;
}

export function applyingCommitter(context: EventContext): EventCommitter {
  return { many: (events) => processEvents(context, events), one: (event) => processEvent(context, event) };
}

export class EventBatcher {
  private readonly waiting: Waiting[] = [];
  private running = 0;
  private gatherScheduled = false;

  constructor(
    private readonly context: EventContext,
    private readonly options: EventBatcherOptions,
    private readonly committer: EventCommitter = applyingCommitter(context),
  ) {}

  /** Resolves once the event is committed (or recognised as a duplicate); rejects if it could not be. */
  submit(event: IncomingEvent): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      this.scheduleGather();
    });
  }

  private scheduleGather() {
    if (this.gatherScheduled) return;
    this.gatherScheduled = true;
    setImmediate(() => {
      this.gatherScheduled = false;
      this.pump();
    });
  }

  private pump() {
    while (this.running < this.options.maxConcurrentBatches && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.running++;
      void this.commit(batch).finally(() => {
        this.running--;
        this.scheduleGather();
      });
    }
  }

  private async commit(batch: Waiting[]) {
    if (batch.length > 1) {
      try {
        const results = await this.committer.many(batch.map((waiting) => waiting.event));
        batch.forEach((waiting, index) => waiting.resolve(results[index]!));
        return;
      } catch (error) {
        // One event must not fail the others: each goes again alone, and only what fails alone fails.
        this.context.log.warn({ error: describeError(error), events: batch.length }, 'batch failed; committing its events one by one');
      }
    }
    await Promise.all(batch.map((waiting) => this.committer.one(waiting.event).then(waiting.resolve, waiting.reject)));
  }
}
