import type { JsonSchema } from "@flow/sdk";

export type SyncPolicy = "flush" | "batch";

export interface FileConsumerConfig {
  /** The JSON Lines file to append to; relative paths resolve against the service's working directory. */
  path: string;
  /** When to fsync: on Core's Flush (and at the end of a stream), or after every batch. */
  fsync: SyncPolicy;
  /** Create missing parent folders. */
  createDirectories: boolean;
}

export const fileConsumerConfigSchema: JsonSchema = {
  title: "flow-consumer-file configuration",
  type: "object",
  additionalProperties: false,
  required: ["path"],
  properties: {
    path: {
      type: "string",
      minLength: 1,
      description:
        "The JSON Lines file to append to (created if missing); a relative path resolves against the service's working directory.",
    },
    fsync: {
      enum: ["flush", "batch"],
      default: "flush",
      description:
        "flush: written batches reach the OS at once and the disk (fsync) when Flow Core flushes and when the stream ends. batch: fsync before acknowledging every batch (slower, survives a power cut).",
    },
    createDirectories: {
      type: "boolean",
      default: true,
      description: "Create the file's missing parent folders.",
    },
  },
};
