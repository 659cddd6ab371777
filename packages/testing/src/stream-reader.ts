import type { ClientDuplexStream, ServiceError, StatusObject } from "@grpc/grpc-js";

/**
 * Reads a client stream message by message, so a test awaits exactly the message it expects
 * instead of sleeping: `next()` resolves with the next message, or rejects with the stream's
 * error, or with "stream ended" when the server closed it.
 */
export class StreamReader<Request, Response> {
  private readonly queue: Response[] = [];
  private readonly waiters: { resolve(value: Response): void; reject(error: Error): void }[] = [];
  private failure: Error | undefined;
  /** Resolves when the server ends the stream cleanly, rejects with its error otherwise. */
  readonly finished: Promise<void>;
  /** The call's final status, OK or not; resolves once the call is over. */
  readonly status: Promise<StatusObject>;

  constructor(stream: ClientDuplexStream<Request, Response>) {
    this.status = new Promise((resolve) => stream.on("status", resolve));
    this.finished = new Promise<void>((resolve, reject) => {
      stream.on("data", (message: Response) => {
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(message);
        else this.queue.push(message);
      });
      stream.on("error", (error: ServiceError) => {
        this.fail(error);
        reject(error);
      });
      stream.on("end", () => {
        this.fail(new Error("stream ended"));
        resolve();
      });
    });
    // A test that only awaits next() must not see an unhandled rejection from `finished`.
    this.finished.catch(() => undefined);
  }

  next(): Promise<Response> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The next `count` messages, in order. */
  async take(count: number): Promise<Response[]> {
    const messages: Response[] = [];
    for (let i = 0; i < count; i += 1) messages.push(await this.next());
    return messages;
  }

  /** Messages that arrived and were not read yet. */
  get pending(): number {
    return this.queue.length;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }
}
