import { setTimeout as delay } from "node:timers/promises";
import { BatchByteLimit, type FlowEvent, type ReadContext, type SourceOutput } from "@flow/sdk";
import { databaseOf, type PostgresSourceConfig } from "./postgres-source-config";
import { encodeQueryCheckpoint, resumedQueryCheckpoint } from "./query-checkpoint";
import { TableReader, type TableRow } from "./table-reader";

const DEFAULT_BATCH_SIZE = 500;

/**
 * Query mode: the table's rows in cursor order, batch by batch, each batch's checkpoint the cursor
 * values of its last row; once every row is read it looks again every pollIntervalMs. Never ends.
 */
export async function* readTableRows(
  config: PostgresSourceConfig,
  context: ReadContext,
): AsyncGenerator<SourceOutput> {
  const table = config.table ?? "";
  const cursorColumns = config.cursorColumns ?? [];
  const reader = await TableReader.open({
    url: config.url,
    table,
    cursorColumns,
    source: (resolved) =>
      config.source ?? `/postgres/${databaseOf(config.url)}/${resolved.schema}.${resolved.table}`,
  });
  const onAbort = (): void => void reader.close();
  context.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const resumed = resumedQueryCheckpoint(context.checkpoint, reader.table.name, cursorColumns);
    const maxSize = context.maxBatchSize > 0 ? context.maxBatchSize : DEFAULT_BATCH_SIZE;
    const limit = new BatchByteLimit(context);
    // Rows read from the table and not yet emitted (the rest of a page a byte limit cut short).
    const fetched: TableRow[] = [];
    let readUpTo = resumed?.cursor;
    let emittedUpTo = resumed?.cursor;
    let caughtUp = false;
    while (!context.signal.aborted) {
      const events: FlowEvent[] = limit.startBatch();
      // The event the limit carried over is the first row still fetched.
      if (events.length > 0) emittedUpTo = fetched.shift()?.cursor;
      while (events.length < maxSize) {
        if (fetched.length === 0) {
          if (events.length > 0 && caughtUp) break;
          const want = maxSize - events.length;
          const rows = await reader.page(readUpTo, want);
          caughtUp = rows.length < want;
          if (rows.length === 0) {
            if (events.length > 0) break;
            await delay(config.pollIntervalMs, undefined, { signal: context.signal }).catch(() => undefined);
            if (context.signal.aborted) return;
            continue;
          }
          fetched.push(...rows);
          readUpTo = rows[rows.length - 1]?.cursor;
        }
        const row = fetched[0] as TableRow;
        if (!limit.admits(row.event)) break;
        fetched.shift();
        events.push(row.event);
        emittedUpTo = row.cursor;
      }
      const cursor = emittedUpTo ?? [];
      yield {
        events,
        checkpoint: {
          position: encodeQueryCheckpoint({
            kind: "postgres-query",
            table: reader.table.name,
            cursorColumns,
            cursor,
          }),
          description: `${reader.table.name} after (${cursor.join(", ")})`,
        },
      };
    }
  } catch (error) {
    if (context.signal.aborted) return;
    throw error;
  } finally {
    context.signal.removeEventListener("abort", onAbort);
    await reader.close();
  }
}
