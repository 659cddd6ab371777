import type { JsonSchema } from "@flow/sdk";

export interface SqliteConsumerConfig {
  /** The SQLite database file (created if missing); relative paths resolve against the service's working directory. */
  path: string;
  /** The table events go to (created if missing). */
  table: string;
  /** Kept so pipeline files that name it stay valid: only full, which syncs the WAL on every commit. */
  synchronous: "full";
  /** How long to wait for another writer's lock before the batch is retried, in milliseconds. */
  busyTimeoutMs: number;
  /** Create the database file's missing parent folders. */
  createDirectories: boolean;
}

/** A plain SQL identifier, so the table name never needs more than quoting. */
export const TABLE_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,62}$";

export const sqliteConsumerConfigSchema: JsonSchema = {
  title: "flow-consumer-sqlite configuration",
  type: "object",
  additionalProperties: false,
  required: ["path"],
  properties: {
    path: {
      type: "string",
      minLength: 1,
      description:
        "The SQLite database file (created if missing); a relative path resolves against the service's working directory.",
    },
    table: {
      type: "string",
      pattern: TABLE_NAME_PATTERN,
      default: "events",
      description:
        "The table events are written to (created if missing): a letter or _, then letters, digits or _.",
    },
    synchronous: {
      enum: ["full"],
      default: "full",
      description:
        "full (the only setting): every batch's COMMIT syncs the WAL before the batch is acknowledged, so it survives a power cut; Flow Core commits checkpoints on that acknowledgement. normal acknowledged commits a power cut could undo, and was removed.",
    },
    busyTimeoutMs: {
      type: "integer",
      minimum: 0,
      default: 5000,
      description:
        "How long to wait for another writer's lock before the batch is reported for retry, in milliseconds.",
    },
    createDirectories: {
      type: "boolean",
      default: true,
      description: "Create the database file's missing parent folders.",
    },
  },
};
