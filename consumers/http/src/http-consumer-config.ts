import type { JsonSchema } from "@flow/sdk";

export type BodyFormat = "batch" | "event" | "binary" | "template";

export interface HttpConsumerConfig {
  url: string;
  method: "POST" | "PUT";
  format: BodyFormat;
  template?: unknown;
  headers: Record<string, string>;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  requestTimeoutMs: number;
  maxRetryAfterMs: number;
  connections: number;
  caFile?: string;
  reasonBytes: number;
}

export const httpConsumerConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "flow-consumer-http configuration",
  type: "object",
  additionalProperties: false,
  required: ["url"],
  properties: {
    url: {
      type: "string",
      pattern: "^https?://",
      description: "Where the requests go, http:// or https://.",
    },
    method: { enum: ["POST", "PUT"], default: "POST", description: "The request method." },
    format: {
      enum: ["batch", "event", "binary", "template"],
      default: "batch",
      description:
        "batch: one request per batch, a CloudEvents JSON batch (application/cloudevents-batch+json). event: one request per event, structured (application/cloudevents+json). binary: one request per event, the attributes in ce-* headers and the payload as the body. template: one request per event, the body made from `template`.",
    },
    template: {
      description:
        'The JSON body of format template: any JSON value in which a string "{{path}}" becomes the value at that path of the event (id, source, type, subject, time, datacontenttype, dataschema, an extension, data, data.a.b), and "{{path}}" inside a longer string its text.',
    },
    headers: {
      type: "object",
      additionalProperties: { type: "string" },
      default: {},
      description: "Headers added to every request (they may replace Content-Type).",
    },
    bearerToken: {
      type: "string",
      minLength: 1,
      description: "Sent as Authorization: Bearer <token>.",
    },
    basicAuth: {
      type: "object",
      additionalProperties: false,
      required: ["username", "password"],
      description: "Sent as Authorization: Basic (instead of bearerToken).",
      properties: {
        username: { type: "string" },
        password: { type: "string" },
      },
    },
    requestTimeoutMs: {
      type: "integer",
      minimum: 1,
      default: 10000,
      description: "How long one request may take, answer included; then the batch is answered retryable.",
    },
    maxRetryAfterMs: {
      type: "integer",
      minimum: 0,
      default: 10000,
      description:
        "The longest Retry-After (of a 429 or 5xx) waited before the batch is answered retryable; a longer one is cut to this. Keep it below the stage's timeouts.ackMs.",
    },
    connections: {
      type: "integer",
      minimum: 1,
      default: 8,
      description: "Keep-alive connections to the server, and the per-event requests sent at once.",
    },
    caFile: {
      type: "string",
      minLength: 1,
      description: "PEM certificates to trust for https (e.g. a private CA), besides the system's.",
    },
    reasonBytes: {
      type: "integer",
      minimum: 0,
      default: 512,
      description: "How much of a refusing response's body goes into the dead letter's reason.",
    },
  },
};
