import { type FlowEvent, PermanentError, RetryableError } from "@flow/sdk";
import { BatchNotCommitted, commitBatch, type SqlErrorReader, type SqlSession } from "./batch-transaction";
import type { EventRows, RefusedEvent } from "./event-rows";

/** At most this many refused events are named in a dead letter's reason. */
const NAMED_REFUSALS = 5;

/**
 * A SQL consumer's writer for one stream: turns each batch into rows, commits them in one
 * transaction and resolves (so the SDK answers WRITTEN) only after the COMMIT. The connection is
 * opened on the first batch and opened anew after any failure of it, so a server that went away
 * and came back is written to again on the retry.
 */
export class SqlBatchWriter {
  private session: Promise<SqlSession> | undefined;

  constructor(
    private readonly rows: EventRows,
    private readonly connect: () => Promise<SqlSession>,
    private readonly errors: SqlErrorReader,
    /** The database for messages, e.g. `PostgreSQL at 127.0.0.1:5432/test`. */
    private readonly server: string,
  ) {}

  async write(events: FlowEvent[]): Promise<void> {
    const { rows, refused } = await this.rows.build(events);
    let committed = 0;
    if (rows.length > 0) {
      const session = await this.connected();
      try {
        const refusedByServer = await commitBatch(session, rows, this.errors);
        committed = rows.length - refusedByServer.length;
        refused.push(...refusedByServer);
      } catch (error) {
        if (!(error instanceof BatchNotCommitted)) throw error;
        if (error.kind === "retryable") {
          await this.drop();
          throw new RetryableError(
            `${this.server}: ${error.message}; the batch is retried (its rows collide on their key, so a COMMIT that did happen adds nothing)`,
          );
        }
        throw new PermanentError(
          `${this.server} refused the batch, nothing of it was committed: ${error.message}`,
        );
      }
    }
    if (refused.length > 0) throw new PermanentError(refusedReason(this.server, refused, committed));
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private async connected(): Promise<SqlSession> {
    this.session ??= this.connect();
    try {
      return await this.session;
    } catch (error) {
      this.session = undefined;
      throw new RetryableError(`cannot connect to ${this.server}: ${this.errors.describe(error)}`);
    }
  }

  private async drop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.then((open) => open.close()).catch(() => undefined);
  }
}

function refusedReason(server: string, refused: RefusedEvent[], committed: number): string {
  const named = refused
    .slice(0, NAMED_REFUSALS)
    .map((event) => `${event.eventId}: ${event.reason}`)
    .join("; ");
  const more = refused.length > NAMED_REFUSALS ? `; and ${refused.length - NAMED_REFUSALS} more` : "";
  return `${refused.length} event(s) of the batch cannot be stored in ${server} (the other ${committed} row(s) were committed): ${named}${more}`;
}
