/** What ts-proto generates for every message (its `MessageFns`), as the conformance tests use it. */
export interface MessageCodec<T = unknown> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  create(base?: unknown): T;
  fromPartial(object: unknown): T;
}

/** Every message codec a generated module exports, by message name (e.g. `Event_ExtensionsEntry`). */
export function messageCodecsOf(module: Record<string, unknown>): Map<string, MessageCodec> {
  const codecs = new Map<string, MessageCodec>();
  for (const [name, value] of Object.entries(module)) {
    if (isMessageCodec(value)) codecs.set(name, value);
  }
  return codecs;
}

function isMessageCodec(value: unknown): value is MessageCodec {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ["encode", "decode", "fromJSON", "toJSON", "create", "fromPartial"].every(
    (key) => typeof candidate[key] === "function",
  );
}

/**
 * The value without ts-proto's `_unknownFields` bookkeeping (decode adds an empty one to every
 * message), so a decoded message compares equal to the one that was encoded.
 */
export function withoutUnknownFields<T>(value: T): T {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(withoutUnknownFields) as T;
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key !== "_unknownFields") copy[key] = withoutUnknownFields(item);
  }
  return copy as T;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
