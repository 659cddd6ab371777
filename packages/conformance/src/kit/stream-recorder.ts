import type * as grpc from "@grpc/grpc-js";
import { ConditionWait } from "./condition-wait";

/**
 * Records what a service sends on a stream, so a check can wait for a condition (an answer, an
 * exhaustion) instead of a time, and afterwards see everything, including what it did not expect.
 */
export class StreamRecorder<Response> {
  readonly received: Response[] = [];
  /** How the stream ended: "ok" (the server closed it cleanly) or the error's text. */
  ended: string | undefined;
  endedCode: number | undefined;
  private readonly waits = new ConditionWait();

  constructor(readonly call: grpc.ClientDuplexStream<unknown, Response>) {
    call.on("data", (response: Response) => {
      this.received.push(response);
      this.waits.wake();
    });
    call.on("error", (error: grpc.ServiceError) => {
      this.ended ??= error.details || error.message;
      this.endedCode ??= error.code;
      this.waits.wake();
    });
    call.on("end", () => {
      this.ended ??= "ok";
      this.waits.wake();
    });
  }

  /**
   * Checks the waiting conditions again: for one that also depends on something that arrives
   * elsewhere (a batch a service pushed to the kit's own Ingest server).
   */
  recheck(): void {
    this.waits.wake();
  }

  /**
   * Resolves true once `condition` holds, false when the stream ends first or `timeoutMs` passes.
   */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.waits.until(condition, timeoutMs, () => this.ended !== undefined);
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
