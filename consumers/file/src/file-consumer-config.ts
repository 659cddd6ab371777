import type { JsonSchema } from "@flow/sdk";

/** The one sync policy: a batch is acknowledged WRITTEN only once it is on disk. */
export type SyncPolicy = "batch";

export interface FileConsumerConfig {
  /** The JSON Lines file to append to; relative paths resolve against the service's working directory. */
  path: string;
  /** Kept so pipeline files that name it stay valid: every batch is fdatasynced before its ack. */
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
      enum: ["batch"],
      default: "batch",
      description:
        "batch (the only policy): every batch is on disk (fdatasync) before it is acknowledged, because Flow Core commits checkpoints on that acknowledgement. The former flush policy acknowledged batches a power cut could lose, and was removed.",
    },
    createDirectories: {
      type: "boolean",
      default: true,
      description: "Create the file's missing parent folders.",
    },
  },
};
