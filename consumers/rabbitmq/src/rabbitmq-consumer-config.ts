import type { JsonSchema } from "@flow/sdk";

export type ContentMode = "binary" | "structured";

export interface RabbitmqConsumerConfig {
  /** amqp://user:password@host:port/vhost */
  url: string;
  /** The exchange to publish to; "" is the default exchange, which routes by queue name. */
  exchange: string;
  /** The routing key; with the default exchange, the queue's name. */
  routingKey: string;
  /** An event attribute whose value, when the event has one, is the routing key instead. */
  routingKeyAttribute?: string;
  /** CloudEvents content mode: attributes in headers (binary) or the whole event as JSON (structured). */
  mode: ContentMode;
  /** Ask the broker to return a message no queue takes: the batch fails permanently, never silently lost. */
  mandatory: boolean;
  /** The largest message the broker accepts (RabbitMQ's max_message_size). */
  maxMessageBytes: number;
  /** AMQP heartbeat in seconds: a broker gone silent is noticed after about twice this. */
  heartbeatSeconds: number;
}

/** RabbitMQ's own default for max_message_size (3.8 and later): 128 MiB. */
export const RABBITMQ_MAX_MESSAGE_BYTES = 134_217_728;

export const rabbitmqConsumerConfigSchema: JsonSchema = {
  title: "flow-consumer-rabbitmq configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    url: {
      type: "string",
      pattern: "^amqps?://",
      default: "amqp://guest:guest@127.0.0.1:5672",
      description: "The broker: amqp://user:password@host:port/vhost (amqps:// for TLS).",
    },
    exchange: {
      type: "string",
      default: "",
      description:
        'The exchange to publish to (it must exist); "" is the default exchange, which routes by queue name.',
    },
    routingKey: {
      type: "string",
      default: "",
      maxLength: 255,
      description: "The routing key; with the default exchange, the name of the queue (which must exist).",
    },
    routingKeyAttribute: {
      type: "string",
      minLength: 1,
      description:
        "An event attribute (subject, type, source, id or an extension) whose value, where the event has one, is the routing key instead of routingKey.",
    },
    mode: {
      enum: ["binary", "structured"],
      default: "binary",
      description:
        "CloudEvents content mode: binary puts the attributes in cloudEvents:* headers and the payload in the body; structured sends the whole event as application/cloudevents+json.",
    },
    mandatory: {
      type: "boolean",
      default: true,
      description:
        "Have the broker return a message that no queue takes; the batch then fails permanently (dead letter) instead of the message vanishing.",
    },
    maxMessageBytes: {
      type: "integer",
      minimum: 1,
      default: 134217728,
      description:
        "The largest message body the broker accepts (its max_message_size); a larger event fails its batch permanently.",
    },
    heartbeatSeconds: {
      type: "integer",
      minimum: 1,
      default: 10,
      description: "AMQP heartbeat: a broker gone silent is noticed after about twice this.",
    },
  },
};
