import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from "pg-logical-replication";
import { formatLsn, type Lsn, parseLsn } from "./lsn";
import { clientConfig } from "./postgres-client";

/** A pgoutput message as it arrives, with the WAL position of the XLogData that carried it. */
export interface ReplicationMessage {
  lsn: Lsn;
  message: Pgoutput.Message;
}

/** Column values as PostgreSQL's text (see columnValue), not parsed by node-postgres's type parsers. */
const keepText = (text: unknown): unknown => text;

/**
 * pgoutput, with every column value left as the text the server sent. The library parses a
 * value with the parser of the column's relation, which it caches as it reads the Relation message
 * that always comes before the first change of a relation; the parsers are swapped right there,
 * before any later message is parsed (parsing is synchronous and in stream order).
 */
class TextPgoutputPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer);
    if (message.tag === "relation") for (const column of message.columns) column.parser = keepText;
    return message;
  }
}

/**
 * One replication connection streaming a slot with pgoutput, through pg-logical-replication with
 * its own acknowledgements turned off (`auto: false`, and no timer: that one would confirm the
 * last position received). The slot's confirmed flush position moves only by `confirm`, which the
 * source calls with the position of a checkpoint Core has committed. The server is answered with
 * that same position whenever it asks (keepalive) and every `statusIntervalMs`, even while the
 * socket is paused for backpressure, so the walsender never times the connection out and the
 * slot never moves past what is committed.
 *
 * Backpressure: the library's flow control pauses the socket until the handler of a message
 * resolves; the handler resolves only while fewer than `highWater` messages wait here.
 */
export class ReplicationStream {
  private readonly service: LogicalReplicationService;
  private readonly queue: ReplicationMessage[] = [];
  private waiting: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  private failure: Error | undefined;
  private closed = false;
  private confirmed: Lsn;
  private readonly statusTimer: NodeJS.Timeout;

  constructor(
    private readonly options: {
      url: string;
      slot: string;
      publication: string;
      /** Where the slot stands, and what is committed: the server resumes after it. */
      start: Lsn;
      statusIntervalMs: number;
      highWater: number;
    },
  ) {
    this.confirmed = options.start;
    this.service = new LogicalReplicationService(
      clientConfig(options.url, { applicationName: "flow-source-postgres" }),
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.service.on("data", (lsn: string, message: Pgoutput.Message) => this.receive(parseLsn(lsn), message));
    this.service.on("heartbeat", (_lsn: string, _timestamp: number, shouldRespond: boolean) => {
      if (shouldRespond) this.sendStatus();
    });
    this.service.on("error", (error: Error) => this.fail(error));
    this.statusTimer = setInterval(() => this.sendStatus(), options.statusIntervalMs);
    this.statusTimer.unref();
  }

  /** Opens the connection and starts streaming after `start`; rejects when the server refuses. */
  async start(): Promise<void> {
    const started = new Promise<void>((resolve) => this.service.once("start", () => resolve()));
    const streaming = this.service.subscribe(
      new TextPgoutputPlugin({ protoVersion: 1, publicationNames: [this.options.publication] }),
      this.options.slot,
      formatLsn(this.options.start),
    );
    // The replication ends only by close() or a failure; either way the stream is over.
    const ended = streaming.then(
      () => this.fail(new Error("the server ended the replication stream")),
      (error: Error) => this.fail(error),
    );
    await Promise.race([started, ended.then(() => Promise.reject(this.failure))]);
    // The server starts at the slot's confirmed position when that is further than `start`; tell
    // it at once where this stream stands, which is never further than what is committed.
    this.sendStatus();
  }

  /** The next message, waiting for one; rejects once the stream failed. */
  async next(): Promise<ReplicationMessage> {
    for (;;) {
      const message = this.queue.shift();
      if (message) {
        if (this.queue.length < this.options.highWater) for (const wake of this.roomWaiters.splice(0)) wake();
        return message;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /** Resolves once a message is there (true) or the stream failed, or after `ms` (false). */
  async arrives(ms: number): Promise<boolean> {
    if (this.queue.length > 0 || this.failure) return true;
    if (ms <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const arrived = await Promise.race([
      new Promise<true>((resolve) => {
        const previous = this.waiting;
        this.waiting = () => {
          previous?.();
          resolve(true);
        };
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return arrived;
  }

  /** The message next() would return now without waiting, if one is there. */
  peek(): ReplicationMessage | undefined {
    return this.queue[0];
  }

  /** Core committed a checkpoint covering everything up to `lsn`: the slot may be confirmed up to it. */
  confirm(lsn: Lsn): void {
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.sendStatus();
  }

  /** The position this stream tells the server it has flushed: the last committed one. */
  get confirmedLsn(): Lsn {
    return this.confirmed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.statusTimer);
    this.fail(new Error("the replication stream was closed"));
    for (const wake of this.roomWaiters.splice(0)) wake();
    await this.service.destroy().catch(() => undefined);
  }

  private async receive(lsn: Lsn, message: Pgoutput.Message): Promise<void> {
    if (this.closed) return;
    this.queue.push({ lsn, message });
    this.wake();
    while (this.queue.length >= this.options.highWater && !this.closed)
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * A standby status update with write = flush = apply = the confirmed position. The library's
   * acknowledge(lsn) reports lsn + 1 (it counts the byte after the one named): it is handed the
   * position before, so the server is told exactly the committed one. Confirming a byte further
   * would let the server skip a transaction whose commit record starts right there.
   */
  private sendStatus(): void {
    if (this.closed || this.confirmed <= 0n) return;
    void this.service.acknowledge(formatLsn(this.confirmed - 1n)).catch(() => undefined);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const wake = this.waiting;
    this.waiting = undefined;
    wake?.();
  }
}
