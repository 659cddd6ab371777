/**
 * A request the source answers with an error status and a reason, without taking any of its
 * events: a bad body (400), an unsupported content type (415), a missing credential (401).
 */
export class RejectedRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "RejectedRequest";
  }
}

export const badRequest = (reason: string): RejectedRequest => new RejectedRequest(400, reason);
