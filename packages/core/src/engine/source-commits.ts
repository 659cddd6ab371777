import { UserError } from "@flow/errors";
import type { StateStore } from "../state";
import type { Checkpointed, SourceLedger } from "./source-ledger";
import type { StoreOutage } from "./store-outage";

export interface SourceCommitsOptions {
  pipeline: string;
  sourceId: string;
  store: Pick<StateStore, "commitCheckpoint">;
  outage: StoreOutage;
  /**
   * At most one commit per this many ms (state stores are slow at small batch sizes); 0: commit as
   * soon as a checkpoint is committable, still one commit at a time.
   */
  intervalMs: number;
  runId: () => string;
  /** Makes every dead letter written so far durable: a checkpoint never gets ahead of them. */
  syncDeadLetters: () => void;
  /** A checkpoint is durable: tell the source (its broker may now forget what it covers). */
  onCommitted: (sequence: bigint, checkpoint: Checkpointed) => void;
  /** A commit failed for good (not an outage StoreOutage could wait out). */
  onFailed: (error: UserError) => void;
  /** A commit finished or stopped waiting: the source's state may have moved. */
  onSettled: () => void;
  now?: () => number;
}

/**
 * The per-source commit: takes the newest checkpoint the source's ledger has settled and makes
 * it durable in the state store, at most once per interval, never two at a time (the latest one
 * wins). While the store is unreachable the commit is retried (StoreOutage), taking up any newer
 * checkpoint that settled meanwhile; each attempt has a sequence of its own, so an attempt that
 * reached the store before the connection broke can never make the next one look stale.
 */
export class SourceCommits {
  /** The checkpoint last made durable: where a reopened stream resumes. */
  committed: Checkpointed | undefined;
  /** The stream sequence of that checkpoint's batch (0: none on this stream). */
  committedSequence = 0n;
  private committing = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;
  private attempts = 0;
  private readonly now: () => number;

  constructor(private readonly options: SourceCommitsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A commit is running or waiting for its interval. */
  get busy(): boolean {
    return this.committing || this.timer !== undefined;
  }

  /**
   * Commits what `ledger` has settled: now when the interval has passed or `draining` (nothing
   * more will come: commit without waiting), else when it has.
   */
  schedule(ledger: SourceLedger, draining: boolean): void {
    if (this.timer) {
      if (!draining) return;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const wait = this.lastAt + this.options.intervalMs - this.now();
    if (wait <= 0 || draining) {
      void this.commit(ledger);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.commit(ledger);
    }, wait);
  }

  /** A new stream starts (the source was reopened): its sequences start again from 1. */
  restart(): void {
    this.committedSequence = 0n;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async commit(ledger: SourceLedger): Promise<void> {
    if (this.committing) {
      this.again = true;
      return;
    }
    this.committing = true;
    this.lastAt = this.now();
    const { store, outage, pipeline, sourceId } = this.options;
    try {
      for (;;) {
        this.again = false;
        let next = ledger.takeCommittable();
        if (!next) break;
        const committed = await outage.retry(`commit the checkpoint of "${sourceId}"`, async () => {
          const newest = ledger.takeCommittable() ?? (next as NonNullable<typeof next>);
          next = newest;
          this.options.syncDeadLetters();
          this.attempts += 1;
          await store.commitCheckpoint({
            pipeline,
            sourceId,
            position: newest.checkpoint.position,
            description: newest.checkpoint.description,
            runId: this.options.runId(),
            sequence: this.attempts,
          });
          return newest;
        });
        this.committed = committed.checkpoint;
        this.committedSequence = committed.sequence;
        this.options.onCommitted(committed.sequence, committed.checkpoint);
        if (!this.again) break;
      }
    } catch (error) {
      this.options.onFailed(
        error instanceof UserError
          ? error
          : new UserError(`cannot commit the checkpoint of "${sourceId}": ${(error as Error).message}`, {
              exitCode: 1,
            }),
      );
    } finally {
      this.committing = false;
    }
    this.options.onSettled();
  }
}
