import type { JsonSchema } from "@flow/sdk";

export interface RedisSourceConfig {
  url: string;
  stream: string;
  group: string;
  consumer?: string;
  createGroup: boolean;
  startId: string;
  claimIdleMs: number;
  blockMs: number;
  payloadField?: string;
  source?: string;
  type: string;
}

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export const redisSourceConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "flow-source-redis configuration",
  type: "object",
  additionalProperties: false,
  required: ["stream", "group"],
  properties: {
    url: {
      type: "string",
      default: DEFAULT_REDIS_URL,
      pattern: "^rediss?://",
      description: "The Redis server, redis://[user:password@]host:port[/db] (rediss:// for TLS).",
    },
    stream: { type: "string", minLength: 1, description: "The stream key to read." },
    group: { type: "string", minLength: 1, description: "The consumer group that reads it." },
    consumer: {
      type: "string",
      minLength: 1,
      description:
        "This reader's consumer name in the group (default: the stage id). Its own pending entries are read again first after a restart, so keep it stable; give each replica its own.",
    },
    createGroup: {
      type: "boolean",
      default: false,
      description: "Create the group (and the stream, MKSTREAM) when it does not exist.",
    },
    startId: {
      type: "string",
      default: "0",
      pattern: "^(\\$|0|[0-9]+(-[0-9]+)?)$",
      description:
        'Where a group created by createGroup starts: "0" every entry of the stream, "$" only entries added after.',
    },
    claimIdleMs: {
      type: "integer",
      minimum: 0,
      default: 60000,
      description:
        "Entries pending for another consumer longer than this are reclaimed (XAUTOCLAIM) and read again; 0 never reclaims. Keep it above the time a batch takes to commit.",
    },
    blockMs: {
      type: "integer",
      minimum: 1,
      default: 1000,
      description: "How long one XREADGROUP waits for new entries before the source looks again.",
    },
    payloadField: {
      type: "string",
      minLength: 1,
      description:
        "The field whose bytes are the payload of an entry that is not a CloudEvent (default: the whole entry as a JSON object of strings).",
    },
    source: {
      type: "string",
      minLength: 1,
      description: "CloudEvents source of entries that are not CloudEvents (default: /redis/<stream>).",
    },
    type: {
      type: "string",
      minLength: 1,
      default: "redis.stream.entry",
      description: "CloudEvents type of entries that are not CloudEvents.",
    },
  },
};
