/**
 * Errors a consumer's write (or a processor's batch function) throws to say how a failure should
 * be treated. Any other error counts as retryable: Core retries with backoff and, after its
 * retry limit, sends the batch to the dead-letter destination.
 */
export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryableError";
  }
}

/** The batch can never succeed (bad data, a constraint violation): dead-letter it, do not retry. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentError";
  }
}
