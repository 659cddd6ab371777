import type { JsonSchema } from "@flow/sdk";

export interface RedisConsumerConfig {
  url: string;
  stream: string;
  mode: "binary" | "structured";
  createStream: boolean;
  maxLen?: number;
  exactTrim: boolean;
  idempotence?: { ttlSeconds: number; keyPrefix?: string };
  waitReplicas?: number;
  waitTimeoutMs: number;
  commandTimeoutMs: number;
}

export const redisConsumerConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "flow-consumer-redis configuration",
  type: "object",
  additionalProperties: false,
  required: ["stream"],
  properties: {
    url: {
      type: "string",
      default: "redis://127.0.0.1:6379",
      pattern: "^rediss?://",
      description: "The Redis server, redis://[user:password@]host:port[/db] (rediss:// for TLS).",
    },
    stream: { type: "string", minLength: 1, description: "The stream key each event is XADDed to." },
    mode: {
      enum: ["binary", "structured"],
      default: "binary",
      description:
        "binary: one field per CloudEvents attribute (ce_id, ce_source...), content-type and data; structured: content-type application/cloudevents+json and the whole event as JSON in data.",
    },
    createStream: {
      type: "boolean",
      default: true,
      description:
        "Create the stream with the first XADD; false: a missing stream is a permanent failure, and is not created.",
    },
    maxLen: {
      type: "integer",
      minimum: 1,
      description:
        "Trim the stream to about this many entries with each XADD (MAXLEN ~). Trimming drops the oldest entries whether or not a consumer group has read them.",
    },
    exactTrim: {
      type: "boolean",
      default: false,
      description: "Trim to exactly maxLen (MAXLEN =), which costs Redis more than the approximate default.",
    },
    idempotence: {
      type: "object",
      additionalProperties: false,
      required: ["ttlSeconds"],
      description:
        "Skip an event whose id was written within ttlSeconds: one key per event id (SET ... EX) beside the stream, checked and written with the XADD in one Lua script per batch.",
      properties: {
        ttlSeconds: { type: "integer", minimum: 1, description: "How long an event id is remembered." },
        keyPrefix: {
          type: "string",
          minLength: 1,
          description: "Prefix of the id keys (default flow:dedup:<stream>:); the event id follows it.",
        },
      },
    },
    waitReplicas: {
      type: "integer",
      minimum: 1,
      description:
        "After each batch, WAIT until this many replicas have it; fewer within waitTimeoutMs answers retryable.",
    },
    waitTimeoutMs: {
      type: "integer",
      minimum: 1,
      default: 1000,
      description: "How long WAIT waits for the replicas.",
    },
    commandTimeoutMs: {
      type: "integer",
      minimum: 1,
      default: 10000,
      description: "A batch not answered by Redis within this time is answered retryable.",
    },
  },
};
