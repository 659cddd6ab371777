import type { JsonSchema } from "@flow/sdk";

export type QueueType = "classic" | "quorum";
export type ExchangeType = "direct" | "topic" | "fanout" | "headers";

export interface ExchangeBinding {
  /** The exchange the queue is bound to. */
  name: string;
  type: ExchangeType;
  /** Declare the exchange (durable) when it does not exist; off: it must exist. */
  declare: boolean;
  /** One binding of the queue per routing key (pattern, for a topic exchange). */
  routingKeys: string[];
}

export interface RabbitmqSourceConfig {
  /** amqp://user:password@host:port/vhost */
  url: string;
  queue: string;
  /** Declare the queue (durable) when it does not exist; off: it must exist. */
  declareQueue: boolean;
  /** The type of a queue this source declares. */
  queueType: QueueType;
  /** Declare (optionally) an exchange and bind the queue to it. */
  exchange?: ExchangeBinding;
  /** Unacknowledged messages the broker may hand this source; default: 8 × the batch size. */
  prefetch?: number;
  /** Events per batch when Flow Core leaves the size to the source. */
  batchSize: number;
  /** CloudEvents `type` of a message that is not a CloudEvent and has no AMQP `type` property. */
  type: string;
  /** CloudEvents `source` of a message that is not a CloudEvent; default: rabbitmq://host/vhost/queue. */
  source?: string;
  /** End the stream (exhausted) once no message arrived for this long; absent: read forever. */
  stopWhenIdleMs?: number;
  /** AMQP heartbeat in seconds: a silent broker is noticed after about twice this. */
  heartbeatSeconds: number;
}

export const DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672";

/**
 * How many batches' worth of messages the broker may hand the source unacknowledged when the
 * configuration says no `prefetch` and Core states no credits (the stage's inFlight, normally
 * given in ReadStart): Flow's default `inFlight`.
 */
export const DEFAULT_PREFETCH_BATCHES = 8;

export const rabbitmqSourceConfigSchema: JsonSchema = {
  title: "flow-source-rabbitmq configuration",
  type: "object",
  additionalProperties: false,
  required: ["queue"],
  properties: {
    url: {
      type: "string",
      pattern: "^amqps?://",
      default: DEFAULT_URL,
      description: "The broker: amqp://user:password@host:port/vhost (amqps:// for TLS).",
    },
    queue: { type: "string", minLength: 1, maxLength: 255, description: "The queue to consume." },
    declareQueue: {
      type: "boolean",
      default: false,
      description: "Declare the queue (durable, of queueType) when it does not exist; off: it must exist.",
    },
    queueType: {
      enum: ["classic", "quorum"],
      default: "quorum",
      description: "The type of the queue when this source declares it.",
    },
    exchange: {
      type: "object",
      additionalProperties: false,
      required: ["name"],
      description: "Bind the queue to this exchange (declaring the exchange unless declare is false).",
      properties: {
        name: { type: "string", minLength: 1, description: "The exchange." },
        type: {
          enum: ["direct", "topic", "fanout", "headers"],
          default: "topic",
          description: "The exchange's type when this source declares it.",
        },
        declare: {
          type: "boolean",
          default: true,
          description: "Declare the exchange (durable) when it does not exist; off: it must exist.",
        },
        routingKeys: {
          type: "array",
          items: { type: "string" },
          minItems: 1,
          default: ["#"],
          description: "One binding per routing key (a pattern, for a topic exchange).",
        },
      },
    },
    prefetch: {
      type: "integer",
      minimum: 1,
      maximum: 65535,
      description:
        "Messages the broker may hand this source unacknowledged (basic.qos). Default: the stage's inFlight (the credits Core gives) × its batch size.",
    },
    batchSize: {
      type: "integer",
      minimum: 1,
      maximum: 100000,
      default: 100,
      description: "Events per batch when Flow Core leaves the batch size to the source.",
    },
    type: {
      type: "string",
      minLength: 1,
      default: "flow.rabbitmq.message",
      description: "CloudEvents type of a message that is not a CloudEvent and has no AMQP type property.",
    },
    source: {
      type: "string",
      minLength: 1,
      description:
        "CloudEvents source of a message that is not a CloudEvent; default: rabbitmq://<host>:<port>/<vhost>/<queue>.",
    },
    stopWhenIdleMs: {
      type: "integer",
      minimum: 1,
      description:
        "End the stream once no message arrived for this long (then wait for the last commits and acknowledge them); absent: read forever.",
    },
    heartbeatSeconds: {
      type: "integer",
      minimum: 1,
      default: 10,
      description: "AMQP heartbeat: a broker gone silent is noticed after about twice this.",
    },
  },
};
