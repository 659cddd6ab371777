import type * as grpc from "@grpc/grpc-js";

/**
 * Records what a service sends on a stream, so a check can wait for a condition (an answer, an
 * exhaustion) instead of a time, and afterwards see everything, including what it did not expect.
 */
export class StreamRecorder<Response> {
  readonly received: Response[] = [];
  /** How the stream ended: "ok" (the server closed it cleanly) or the error's text. */
  ended: string | undefined;
  endedCode: number | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly call: grpc.ClientDuplexStream<unknown, Response>) {
    call.on("data", (response: Response) => {
      this.received.push(response);
      this.wake();
    });
    call.on("error", (error: grpc.ServiceError) => {
      this.ended ??= error.details || error.message;
      this.endedCode ??= error.code;
      this.wake();
    });
    call.on("end", () => {
      this.ended ??= "ok";
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Resolves true once `condition` holds, false when the stream ends first or `timeoutMs` passes.
   */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition()) done(true);
        else if (this.ended !== undefined) done(false);
      };
      const timer = setTimeout(() => done(condition()), timeoutMs);
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Half-closes the stream and waits for the server to end it. */
  async finish(timeoutMs: number): Promise<void> {
    this.call.end();
    await this.until(() => this.ended !== undefined, timeoutMs);
    if (this.ended === undefined) this.call.cancel();
  }

  /** Writes a message and resolves once it is handed to the transport. */
  write(message: unknown): Promise<void> {
    return new Promise((resolve) => this.call.write(message, () => resolve()));
  }
}
