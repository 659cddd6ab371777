import type { Logger } from "pino";
import {
  endpointMajor,
  type LinkEndpoint,
  type LinkStream,
  type OpenedStream,
  type StreamOpener,
} from "./link-stream";

/** Where a connection's streams go, and what each begins with. */
export interface LinkConnectionParts<Request, Response> {
  stageId: string;
  endpoint: LinkEndpoint;
  openStream: StreamOpener<Request, Response>;
  logger: Logger;
  /** The first message of every stream, asked for each one opened. */
  startMessage(): Request;
}

/** What a connection asks of the link whose batches cross it (batch-link.ts). */
export interface LinkConnectionUser<Response> {
  /** Batches the link holds: a closing connection ends its stream once there are none. */
  held(): number;
  /** Batches sent and unanswered, for the log when the stream breaks. */
  inFlight(): number;
  onResponse(response: Response): void;
  /** The stream broke (`reason`); the endpoint's recovery is under way. */
  onBroken(reason: string): void;
  /** A new stream is open after a recovery: send again what went unanswered. */
  onRecovered(): void;
  /** The endpoint could not be recovered: the run fails. */
  onFatal(error: Error): void;
}

/**
 * A link's stream over its life: opened at the major negotiated with the service, with the start
 * message; when it breaks (the service failed it, ended it, or stopped answering) dropped, the
 * endpoint recovered - a spawned service is restarted - and a new stream opened; when the link
 * closes, half-closed once the link holds nothing, done when the service ends it. Only the
 * stream now open is listened to: what an older one says is ignored.
 */
export class LinkConnection<Request, Response> {
  private opened: OpenedStream<Request, Response> | undefined;
  private recovering: Promise<void> | undefined;
  /** Dropped by the data-plane restart until its second half (restart) opens a fresh stream. */
  private suspended = false;
  private closing = false;
  private closed: (() => void) | undefined;

  constructor(
    private readonly parts: LinkConnectionParts<Request, Response>,
    private readonly user: LinkConnectionUser<Response>,
  ) {}

  private get stream(): LinkStream<Request, Response> | undefined {
    return this.opened?.stream;
  }

  /** A stream is open and no recovery is under way: what is sent now goes out. */
  get usable(): boolean {
    return this.opened !== undefined && !this.recovering;
  }

  open(): void {
    this.opened?.close();
    const { endpoint } = this.parts;
    const opened = this.parts.openStream(endpoint.target, endpointMajor(endpoint), endpoint.bundles === true);
    this.opened = opened;
    const { stream } = opened;
    stream.on("data", (response: Response) => {
      if (this.opened === opened) this.user.onResponse(response);
    });
    stream.on("error", (error) => {
      if (this.opened === opened) this.broken(`stream failed: ${error.details || error.message}`);
    });
    stream.on("end", () => {
      if (this.opened !== opened) return;
      if (this.closing && this.user.held() === 0) {
        this.opened = undefined;
        opened.close();
        this.closed?.();
      } else this.broken("the service ended the stream");
    });
    stream.write(this.parts.startMessage());
  }

  /** Writes `request` on the stream when it is usable; otherwise a recovery will send it again. */
  send(request: Request): void {
    if (this.usable) this.stream?.write(request);
  }

  /** Half-closes once the link holds nothing; resolves when the service ended the stream. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise<void>((resolve) => {
      this.closed = resolve;
      if (!this.stream) resolve();
      else this.settleIfClosing();
    });
  }

  /** Drops the stream without waiting (the run failed, or the run ends). */
  abort(): void {
    this.closing = true;
    this.stream?.cancel();
    this.opened?.close();
    this.opened = undefined;
  }

  /**
   * The data-plane restart's first half: drops the stream, so nothing it says is heard and nothing
   * is sent, until `restart` opens a fresh one; a recovery under way goes on, but opens no stream
   * when it ends. One with no stream and no recovery (never opened, closed, aborted) is left as is.
   */
  suspend(): void {
    if (!this.opened && !this.recovering) return;
    const opened = this.opened;
    this.opened = undefined;
    this.suspended = true;
    opened?.stream.cancel();
    opened?.close();
  }

  /** Settles when no recovery is under way (whether the last one succeeded or failed the run). */
  recovered(): Promise<void> {
    return this.recovering ?? Promise.resolve();
  }

  /**
   * Opens a fresh stream (the data-plane restart's second half), dropping the one open, if any;
   * a connection that is recovering opens one when that ends, and one closed or aborted stays so.
   */
  restart(): void {
    if (this.recovering) {
      this.suspended = false;
      return;
    }
    const suspended = this.suspended;
    this.suspended = false;
    if (suspended ? this.closing : !this.opened) return;
    this.stream?.cancel();
    this.open();
    this.settleIfClosing();
  }

  /** A closing connection ends its stream once the link holds nothing. */
  settleIfClosing(): void {
    if (this.closing && this.user.held() === 0) this.stream?.end();
  }

  /** Drops the stream and recovers the endpoint, then opens a new stream; once per break. */
  broken(reason: string): void {
    if (this.recovering || (this.closing && this.user.held() === 0)) return;
    const stream = this.stream;
    this.opened?.close();
    this.opened = undefined;
    stream?.cancel();
    this.parts.logger.warn(
      { stage: this.parts.stageId, reason, unanswered: this.user.inFlight() },
      "link broken; recovering",
    );
    this.recovering = this.parts.endpoint
      .recover(reason)
      .then(() => {
        this.recovering = undefined;
        // Suspended meanwhile: the data-plane restart opens the stream once every service is up.
        if (this.suspended) return;
        this.open();
        this.user.onRecovered();
      })
      .catch((error: Error) => {
        this.recovering = undefined;
        this.user.onFatal(error);
      });
    this.user.onBroken(reason);
  }
}
