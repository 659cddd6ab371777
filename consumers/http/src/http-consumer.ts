import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { type ConsumerDefinition, eventJson, type JsonSchema, readPackageVersion } from "@flow/sdk";

export interface HttpConfig {
  /** The JSON Lines file events are appended to. */
  path: string;
}

export const httpConfigSchema: JsonSchema = {
  title: "flow-consumer-http configuration",
  type: "object",
  additionalProperties: false,
  required: ["path"],
  properties: {
    path: { type: "string", minLength: 1, description: "The JSON Lines file events are appended to." },
  },
};

/** Appends each event as one JSON line. This is where the consumer's logic goes. */
export const httpConsumer: ConsumerDefinition<HttpConfig> = {
  name: "flow-consumer-http",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description: "appends events to a JSON Lines file",
  configSchema: httpConfigSchema,

  async write(events, config) {
    const lines = events.map((event) => {
      const json = event.datacontenttype === "application/json";
      return JSON.stringify({
        id: event.id,
        source: event.source,
        type: event.type,
        data: json ? eventJson(event) : event.data.toString("base64"),
      });
    });
    // Resolving only after the append means the acknowledgement Core receives is durable.
    await appendFile(config.path, lines.map((line) => `${line}\n`).join(""));
  },
};
