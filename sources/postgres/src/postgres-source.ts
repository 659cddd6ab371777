import { join } from "node:path";
import { createEvent, type JsonSchema, readPackageVersion, type SourceDefinition } from "@flow/sdk";

export interface PostgresConfig {
  /** How many events to emit in all. */
  count?: number;
}

export const postgresConfigSchema: JsonSchema = {
  title: "flow-source-postgres configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    count: { type: "integer", minimum: 0, default: 10, description: "How many events to emit in all." },
  },
};

// The checkpoint is the number of events emitted so far, as text: resuming from it emits the rest.
const position = (emitted: number): Buffer => Buffer.from(String(emitted), "utf8");

/** Emits events 1..count in batches, resumable from its checkpoint. This is where the source's logic goes. */
export const postgresSource: SourceDefinition<PostgresConfig> = {
  name: "flow-source-postgres",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description: "emits a numbered series of events, resumable from its checkpoint",
  configSchema: postgresConfigSchema,
  producedEventTypes: ["flow-source-postgres.tick"],
  features: { checkpointing: true, ordering: "total" },

  async *read(config, context) {
    const count = config.count ?? 10;
    const batchSize = context.maxBatchSize > 0 ? context.maxBatchSize : 100;
    let emitted = context.checkpoint ? Number(context.checkpoint.toString("utf8")) : 0;
    while (emitted < count && !context.signal.aborted) {
      const end = Math.min(count, emitted + batchSize);
      const events = [];
      for (let index = emitted + 1; index <= end; index++) {
        events.push(
          createEvent({
            id: String(index),
            source: "/flow-source-postgres",
            type: "flow-source-postgres.tick",
            data: { index },
          }),
        );
      }
      emitted = end;
      yield { events, checkpoint: { position: position(emitted), description: `after event ${emitted}` } };
    }
  },
};
