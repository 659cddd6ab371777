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

/**
 * What failed can never succeed, so retrying or restarting is pointless. Thrown from a consumer's
 * write or a processor's batch function: the batch can never be written (bad data, a constraint
 * violation), Core dead-letters it at once and the stream goes on. Thrown from a source's `read`:
 * the source cannot go on at all (its input was replaced, its checkpoint is not its own...); the
 * stream ends with FAILED_PRECONDITION and the message, and Core stops the run with that message
 * instead of restarting the service.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentError";
  }
}
