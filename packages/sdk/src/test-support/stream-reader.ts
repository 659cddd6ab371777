import type * as grpc from "@grpc/grpc-js";

/**
 * Reads a client stream message by message, so a test awaits exactly the answer it expects
 * instead of sleeping: `next()` resolves with the next message, `status` with the final status.
 */
export class StreamReader<T> {
  private readonly buffered: T[] = [];
  private readonly waiting: { resolve(value: T): void; reject(error: Error): void }[] = [];
  private closedWith: Error | undefined;
  /** The call's final status (OK or not); resolves once the server has ended the call. */
  readonly status: Promise<grpc.StatusObject>;

  constructor(stream: grpc.ClientDuplexStream<unknown, T> | grpc.ClientReadableStream<T>) {
    this.status = new Promise((resolve) => stream.on("status", resolve));
    stream.on("data", (message: T) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(message);
      else this.buffered.push(message);
    });
    // Without an error listener a failed call would throw out of the event emitter.
    stream.on("error", (error: Error) => this.close(error));
    stream.on("end", () => this.close(new Error("the stream ended")));
  }

  /** The next message; rejects when the stream ends or fails before one arrives. */
  next(): Promise<T> {
    const message = this.buffered.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** The next `count` messages, in order. */
  async take(count: number): Promise<T[]> {
    const messages: T[] = [];
    for (let i = 0; i < count; i += 1) messages.push(await this.next());
    return messages;
  }

  /** How many messages arrived that no one has read yet. */
  get pending(): number {
    return this.buffered.length;
  }

  private close(error: Error): void {
    this.closedWith ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.closedWith);
  }
}
