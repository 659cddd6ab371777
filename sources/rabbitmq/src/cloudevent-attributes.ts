import {
  type AttributeValue,
  createEvent,
  type FlowEvent,
  InvalidCloudEventError,
  type Timestamp,
  timestampFromRfc3339,
} from "@flow/sdk";

/**
 * An attribute as a binary-mode message carries it: AMQP header values (string, number, boolean,
 * bytes, an AMQP timestamp as amqplib decodes it).
 */
export type CarriedValue = string | number | boolean | Buffer | { "!": "timestamp"; value: number };

/** The attributes the event carries in fields of its own; every other attribute is an extension. */
const CONTEXT_ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
]);
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * A binary-mode CloudEvent from its attributes (read from AMQP headers, by lower-case name, absent
 * ones left out) and its data.
 */
export function eventFromAttributes(attributes: ReadonlyMap<string, CarriedValue>, data: Buffer): FlowEvent {
  const specversion = text(attributes, "specversion");
  if (specversion !== "1.0") {
    throw new InvalidCloudEventError(
      `specversion must be "1.0" (found ${JSON.stringify(specversion) ?? "none"})`,
    );
  }
  const event = createEvent({
    id: required(attributes, "id"),
    source: required(attributes, "source"),
    type: required(attributes, "type"),
    subject: text(attributes, "subject"),
    time: time(attributes.get("time")),
    datacontenttype: text(attributes, "datacontenttype"),
    dataschema: text(attributes, "dataschema"),
    data,
  });
  for (const [name, value] of attributes) {
    if (CONTEXT_ATTRIBUTES.has(name)) continue;
    if (!EXTENSION_NAME.test(name)) {
      throw new InvalidCloudEventError(
        `extension attribute "${name}" is not a CloudEvents attribute name (a-z, 0-9, at most 20)`,
      );
    }
    event.extensions[name] = { value: extensionValue(value) };
  }
  return event;
}

function extensionValue(value: CarriedValue): AttributeValue {
  if (Buffer.isBuffer(value)) return { $case: "binaryValue", value: Buffer.from(value) };
  switch (typeof value) {
    case "boolean":
      return { $case: "booleanValue", value };
    case "string":
      return { $case: "stringValue", value };
    case "number":
      // CloudEvents integers are 32-bit; any other number travels as its text.
      if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
        return { $case: "integerValue", value };
      return { $case: "stringValue", value: String(value) };
    default:
      return { $case: "timestampValue", value: { seconds: BigInt(value.value), nanos: 0 } };
  }
}

function time(value: CarriedValue | undefined): Timestamp | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "object" && !Buffer.isBuffer(value)) return { seconds: BigInt(value.value), nanos: 0 };
  if (typeof value !== "string") throw new InvalidCloudEventError("time must be an RFC 3339 string");
  try {
    return timestampFromRfc3339(value);
  } catch (error) {
    throw new InvalidCloudEventError(`time: ${(error as Error).message}`);
  }
}

function text(attributes: ReadonlyMap<string, CarriedValue>, name: string): string | undefined {
  const value = attributes.get(name);
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value !== "string") throw new InvalidCloudEventError(`${name} must be a string`);
  return value;
}

function required(attributes: ReadonlyMap<string, CarriedValue>, name: string): string {
  const value = text(attributes, name);
  if (!value) throw new InvalidCloudEventError(`${name} must be a non-empty string`);
  return value;
}
