import type { JsonSchema } from "@flow/sdk";

export type SignatureAlgorithm = "sha256" | "sha1" | "sha512";

export interface HttpSourceConfig {
  host: string;
  port: number;
  path: string;
  maxBodyBytes: number;
  maxPendingEvents: number;
  maxPendingBytes: number;
  retryAfterSeconds: number;
  responseTimeoutMs: number;
  bearerToken?: string;
  signature?: { secret: string; header: string; algorithm: SignatureAlgorithm };
  tls?: { certFile: string; keyFile: string };
  source?: string;
  type: string;
  idPointer?: string;
}

export const httpSourceConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "flow-source-http configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    host: {
      type: "string",
      minLength: 1,
      default: "127.0.0.1",
      description: "The address to listen on (0.0.0.0 or :: for every interface).",
    },
    port: {
      type: "integer",
      minimum: 0,
      maximum: 65535,
      default: 8080,
      description: "The port to listen on; 0 lets the system choose (the bound port is logged).",
    },
    path: {
      type: "string",
      pattern: "^/",
      default: "/events",
      description: "The path events are POSTed to; any other path but /healthz is 404.",
    },
    maxBodyBytes: {
      type: "integer",
      minimum: 1,
      default: 1048576,
      description: "The largest request body accepted; a larger one is answered 413.",
    },
    maxPendingEvents: {
      type: "integer",
      minimum: 1,
      default: 10000,
      description:
        "How many events may be received and not yet committed by Core; a request that would exceed it is answered 429 with Retry-After (one request is always admitted when nothing is pending).",
    },
    maxPendingBytes: {
      type: "integer",
      minimum: 1,
      default: 67108864,
      description:
        "How many body bytes may be received (or being received) and not yet committed; beyond it requests are answered 429 with Retry-After.",
    },
    retryAfterSeconds: {
      type: "integer",
      minimum: 0,
      default: 1,
      description: "The Retry-After of 429 and 503 answers, in seconds.",
    },
    responseTimeoutMs: {
      type: "integer",
      minimum: 1,
      default: 30000,
      description:
        "How long a request waits for Core to commit its events; then it is answered 503 with Retry-After (its events may still arrive: the sender's retry can duplicate them).",
    },
    bearerToken: {
      type: "string",
      minLength: 1,
      description: "When set, requests must carry Authorization: Bearer <token> (401 otherwise).",
    },
    signature: {
      type: "object",
      additionalProperties: false,
      required: ["secret"],
      description:
        "When set, requests must carry an HMAC of the raw body in a header, as <algorithm>=<hex> (GitHub's X-Hub-Signature-256 style); 401 otherwise.",
      properties: {
        secret: { type: "string", minLength: 1, description: "The shared HMAC secret." },
        header: {
          type: "string",
          minLength: 1,
          default: "x-hub-signature-256",
          description: "The header that carries the signature.",
        },
        algorithm: {
          enum: ["sha256", "sha1", "sha512"],
          default: "sha256",
          description: "The HMAC hash, also the prefix of the header's value.",
        },
      },
    },
    tls: {
      type: "object",
      additionalProperties: false,
      required: ["certFile", "keyFile"],
      description: "Serve HTTPS with this certificate and key (PEM files).",
      properties: {
        certFile: { type: "string", minLength: 1, description: "The certificate chain, PEM." },
        keyFile: { type: "string", minLength: 1, description: "The private key, PEM." },
      },
    },
    source: {
      type: "string",
      minLength: 1,
      description: "CloudEvents source of plain JSON events (default: /http<path>).",
    },
    type: {
      type: "string",
      minLength: 1,
      default: "http.json",
      description: "CloudEvents type of plain JSON events.",
    },
    idPointer: {
      type: "string",
      pattern: "^(/.*)?$",
      description:
        "JSON Pointer to the id inside each plain JSON event, e.g. /id (default: the Idempotency-Key header or a hash of the body, with the event's index).",
    },
  },
};
