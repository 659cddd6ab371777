import type { JsonSchema } from "@flow/sdk";

export type LineFormat = "payload" | "cloudevents";
export type InvalidLinePolicy = "emit" | "skip" | "fail";
export type ReplacedFilePolicy = "from-start" | "fail";

export interface FileSourceConfig {
  /** The JSON Lines file; relative paths resolve against the service's working directory. */
  path: string;
  format: LineFormat;
  /** CloudEvents `type` of payload lines. */
  type: string;
  /** CloudEvents `source` of payload lines; default: the file's file:// URL. */
  source?: string;
  invalidLines: InvalidLinePolicy;
  /** What to do when the file is not the one the checkpoint was taken on (replaced, truncated). */
  replacedFile: ReplacedFilePolicy;
  /** Keep reading lines appended after the end of the file instead of finishing there. */
  follow: boolean;
  /** How often to look for new lines in follow mode, in milliseconds. */
  pollIntervalMs: number;
  /** Events per batch when Flow Core leaves the size to the source. */
  batchSize: number;
}

export const fileSourceConfigSchema: JsonSchema = {
  title: "flow-source-file configuration",
  type: "object",
  additionalProperties: false,
  required: ["path"],
  properties: {
    path: {
      type: "string",
      minLength: 1,
      description:
        "The JSON Lines file to read; a relative path resolves against the service's working directory.",
    },
    format: {
      enum: ["payload", "cloudevents"],
      default: "payload",
      description:
        "payload: each line is an event's JSON payload. cloudevents: each line is a CloudEvent in the JSON format (id, source, type, data or data_base64...).",
    },
    type: {
      type: "string",
      minLength: 1,
      default: "flow.file.line",
      description: "CloudEvents type of the events made from payload lines (format: payload).",
    },
    source: {
      type: "string",
      minLength: 1,
      description:
        "CloudEvents source of the events made from payload lines; default: the file's file:// URL.",
    },
    invalidLines: {
      enum: ["emit", "skip", "fail"],
      default: "emit",
      description:
        'A line that is not JSON (or not a CloudEvent): emit it as a "flow.file.invalid-line" event carrying the raw line and the reason (a processor dead-letters it), skip it with a warning in the log, or fail the stream.',
    },
    replacedFile: {
      enum: ["from-start", "fail"],
      default: "from-start",
      description:
        "The file at the path is not the one the checkpoint was taken on (another inode, different bytes before the checkpoint, or shorter), or a followed file was rotated: from-start reads the new file from its first byte and logs a warning; fail stops the stream with an error naming the file.",
    },
    follow: {
      type: "boolean",
      default: false,
      description: "Keep waiting for lines appended to the file instead of finishing at its end.",
    },
    pollIntervalMs: {
      type: "integer",
      minimum: 10,
      default: 500,
      description: "How often to look for appended lines in follow mode, in milliseconds.",
    },
    batchSize: {
      type: "integer",
      minimum: 1,
      maximum: 100000,
      default: 500,
      description: "Events per batch when Flow Core leaves the batch size to the source.",
    },
  },
};
