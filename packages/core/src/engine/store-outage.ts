import { UserError } from "@flow/errors";
import { type BackoffBounds, backoffDelayMs } from "@flow/sdk/internal";
import type { Logger } from "pino";
import { StoreUnavailableError } from "../state/store-errors";

/** How long to wait between attempts while the store is unreachable. */
const OUTAGE_BACKOFF: BackoffBounds = { initialDelayMs: 100, maxDelayMs: 2000 };

export interface StoreOutageOptions {
  /** The store, as it may be printed (a file, or a URL without its password). */
  location: string;
  /** How long the store may stay unreachable before the run gives up (state.unreachableLimitMs). */
  limitMs: number;
  logger: Logger;
  /** Called once the store answers again after an outage (credits held back can flow again). */
  onRecovered?: () => void;
  now?: () => number;
}

/**
 * Keeps a run going while the state store is unreachable: a store call that fails because the
 * store cannot be reached is tried again with backoff, and the run knows it is in an outage
 * (sources stop getting credits once their uncommitted window is full). Past the limit the call
 * fails with a UserError that says which store, for how long, and that the run is resumable.
 * Any other error is not an outage and is passed on at once.
 */
export class StoreOutage {
  private since: number | undefined;
  private attempts = 0;
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private cancelled = false;

  constructor(private readonly options: StoreOutageOptions) {}

  /** Whether the last store call failed for want of the store. */
  get down(): boolean {
    return this.since !== undefined;
  }

  /** Runs `call` until it succeeds, fails for another reason, or the outage outlasts the limit. */
  async retry<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const result = await call();
        this.recovered();
        return result;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || this.cancelled) throw error;
        await this.waitAfter(what, error);
      }
    }
  }

  /** Stops every wait in progress (the run is ending): each waiting call fails at once. */
  cancel(): void {
    this.cancelled = true;
    for (const wait of this.waits) {
      clearTimeout(wait.timer);
      wait.resolve();
    }
    this.waits.clear();
  }

  private async waitAfter(what: string, error: StoreUnavailableError): Promise<void> {
    const now = this.now();
    const { location, limitMs, logger } = this.options;
    if (this.since === undefined) {
      this.since = now;
      logger.warn(
        { store: location, cause: error.message, limitMs },
        `state store unreachable while trying to ${what}; commits wait and sources pause once their uncommitted window is full`,
      );
    }
    const downMs = now - this.since;
    if (downMs >= limitMs) {
      throw new UserError(
        `the state store ${location} has been unreachable for ${Math.round(downMs / 1000)} s (limit ${limitMs} ms); the run stops without committing further checkpoints: ${error.message}`,
        {
          hint: "the run is resumable: once the store answers again, run the pipeline again and it resumes from its last committed checkpoint (state.unreachableLimitMs sets how long a run waits)",
          exitCode: 1,
        },
      );
    }
    this.attempts += 1;
    const delay = Math.min(backoffDelayMs(this.attempts, OUTAGE_BACKOFF), limitMs - downMs);
    await new Promise<void>((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, delay),
        resolve,
      };
      this.waits.add(wait);
    });
    if (this.cancelled) throw error;
  }

  private recovered(): void {
    if (this.since === undefined) return;
    const downMs = this.now() - this.since;
    this.since = undefined;
    this.attempts = 0;
    this.options.logger.warn({ store: this.options.location, downMs }, "state store reachable again");
    this.options.onRecovered?.();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
