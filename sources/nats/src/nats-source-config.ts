import type { JsonSchema } from "@flow/sdk";

export interface NatsSourceConfig {
  /** The NATS servers to connect to (any one is enough). */
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
  /** The JetStream stream to read. */
  stream: string;
  /** The durable pull consumer's name; default flow-<stage id>. */
  consumer?: string;
  /** Only messages on this subject (wildcards allowed) are read; default: the whole stream. */
  filterSubject?: string;
  /** Create the durable consumer when it does not exist. */
  createConsumer: boolean;
  /** Where a newly created consumer starts when there is no checkpoint. */
  deliverPolicy: "all" | "new";
  /** The consumer's max_ack_pending; default the stage's inFlight (Core's credits) × its batch size. */
  maxAckPending?: number;
  /** How long the server waits for an ack before it redelivers, in milliseconds. */
  ackWaitMs: number;
  /** How long one pull request waits to fill a batch, in milliseconds. */
  fetchWaitMs: number;
  /** Recognise CloudEvents in messages (binary ce-* headers, structured application/cloudevents+json). */
  cloudEvents: boolean;
}

/** Flow's default stage inFlight (docs/pipeline.md): the SDK's ReadContext does not carry the stage's credits. */
export const DEFAULT_IN_FLIGHT = 8;

const NAME = "^[^.*>\\s]+$";

export const natsSourceConfigSchema: JsonSchema = {
  title: "flow-source-nats configuration",
  type: "object",
  additionalProperties: false,
  required: ["stream"],
  properties: {
    servers: {
      type: "array",
      items: { type: "string", minLength: 1 },
      minItems: 1,
      default: ["nats://127.0.0.1:4222"],
      description: "The NATS servers to connect to, e.g. nats://127.0.0.1:4222 (any one is enough).",
    },
    user: { type: "string", description: "User name, with password." },
    password: { type: "string", description: "Password, with user." },
    token: { type: "string", description: "Authentication token (instead of user and password)." },
    stream: {
      type: "string",
      pattern: NAME,
      description: "The JetStream stream to read; it must exist.",
    },
    consumer: {
      type: "string",
      pattern: NAME,
      description:
        "The durable pull consumer (explicit ack) that holds this source's position on the server; default flow-<stage id>.",
    },
    filterSubject: {
      type: "string",
      minLength: 1,
      description:
        "Only messages on this subject are read (wildcards * and > allowed); it must be one the stream covers. Default: every message of the stream.",
    },
    createConsumer: {
      type: "boolean",
      default: true,
      description:
        "Create the durable consumer when it does not exist: from the checkpoint's stream sequence when there is one, otherwise as deliverPolicy says.",
    },
    deliverPolicy: {
      enum: ["all", "new"],
      default: "all",
      description:
        "Where a consumer created without a checkpoint starts: all (the first message of the stream) or new (messages published from now on).",
    },
    maxAckPending: {
      type: "integer",
      minimum: 1,
      description:
        "The consumer's max_ack_pending: how many messages may be delivered and not yet acknowledged. Default: the stage's inFlight (the credits Core gives) × batch.maxSize.",
    },
    ackWaitMs: {
      type: "integer",
      minimum: 1000,
      default: 30000,
      description:
        "The consumer's ack_wait in milliseconds. Messages waiting for Flow's commit are kept alive with in-progress acks; after a crash of this service, what it held is redelivered once this has passed.",
    },
    fetchWaitMs: {
      type: "integer",
      minimum: 1000,
      default: 1000,
      description:
        "How long one pull request waits to fill a batch, in milliseconds (the NATS client's minimum is 1000). A batch goes out when it is full or this has passed with at least one message.",
    },
    cloudEvents: {
      type: "boolean",
      default: true,
      description:
        "Recognise CloudEvents: binary mode (ce-* headers, content-type) and structured mode (content-type application/cloudevents+json). Off: every message is a plain event.",
    },
  },
};

/** The consumer a stage reads through when the configuration names none. */
export function defaultConsumerName(stageId: string): string {
  return `flow-${stageId}`.replace(/[.*>\s]/g, "_");
}
