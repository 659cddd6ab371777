import type { EventEmitter } from "node:events";
import { EXIT } from "./exit-codes";

/**
 * Signals this close together are one request to stop: `timeout` and a terminal's Ctrl-C deliver a
 * signal to the process and another to its process group, so two arrive at once for one intent.
 */
export const SAME_STOP_WITHIN_MS = 1000;

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** What a signal means, as told to the command that listens. */
export type StopNotice =
  /** The first signal: stop gracefully. */
  | { kind: "stop"; signal: NodeJS.Signals }
  /** Came with the first (within SAME_STOP_WITHIN_MS): the same stop, nothing more to do. */
  | { kind: "repeated"; signal: NodeJS.Signals; afterMs: number }
  /** A later signal: the process exits with EXIT.interrupted right after the listener returns. */
  | { kind: "exit-now"; signal: NodeJS.Signals; afterMs: number };

export interface StopSignalsOptions {
  /** Where signals come from (the process). */
  source?: EventEmitter;
  now?: () => number;
  exit?: (code: number) => void;
  /** Where a stop with no command listening is reported. */
  report?: (line: string) => void;
}

/**
 * SIGINT and SIGTERM for the whole `flow` process, caught from its first line on (bin.ts), so a
 * signal that arrives while Flow is still starting never kills it half-way. A command that can
 * stop gracefully listens; with none listening, nothing has started that needs draining, and the
 * process exits with EXIT.interrupted at once.
 */
export class StopSignals {
  private firstAt: number | undefined;
  private listener: ((notice: StopNotice) => void) | undefined;
  private readonly source: EventEmitter;
  private readonly now: () => number;
  private readonly exit: (code: number) => void;
  private readonly report: (line: string) => void;

  constructor(options: StopSignalsOptions = {}) {
    this.source = options.source ?? process;
    this.now = options.now ?? Date.now;
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.report = options.report ?? ((line) => process.stderr.write(`${line}\n`));
  }

  install(): this {
    for (const signal of STOP_SIGNALS) this.source.on(signal, this.onSignal);
    return this;
  }

  /** Whether a stop was asked for already (a command may check before it starts anything). */
  get requested(): boolean {
    return this.firstAt !== undefined;
  }

  /**
   * `listener` hears every signal until the returned function is called. A stop asked for before
   * it listened is not replayed: with no listener the process has exited already.
   */
  listen(listener: (notice: StopNotice) => void): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    const now = this.now();
    if (this.firstAt === undefined) {
      this.firstAt = now;
      if (this.listener) this.listener({ kind: "stop", signal });
      else {
        this.report(`stopped by ${signal} (nothing had started that needs draining)`);
        this.exit(EXIT.interrupted);
      }
      return;
    }
    const afterMs = now - this.firstAt;
    if (afterMs < SAME_STOP_WITHIN_MS) {
      this.listener?.({ kind: "repeated", signal, afterMs });
      return;
    }
    this.listener?.({ kind: "exit-now", signal, afterMs });
    this.exit(EXIT.interrupted);
  };
}

/** The one instance bin.ts installs and commands listen to. */
export const stopSignals = new StopSignals();
