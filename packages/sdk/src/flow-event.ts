import {
  type AttributeValue as AttributeValueMessage,
  Event,
  type Timestamp as TimestampMessage,
} from "./gen/event/v1/event";

// The SDK's event types are the generated ones of the event contract it vendors (proto/event), so
// a compatible minor release of that contract (a new field) reaches every handler, `createEvent`
// and the codecs at once. A service's own generated Event is the same type as long as both vendor
// the same version, which `flow proto upgrade` keeps so by moving every pin together.

/** A CloudEvents 1.0 event as Flow carries it: event v1's generated `Event`. */
export type FlowEvent = Event;

/** event v1's generated `Timestamp`: `seconds` since the Unix epoch (bigint: int64) and `nanos` 0..999,999,999. */
export type Timestamp = TimestampMessage;

/** The value of an extension attribute: the oneof of event v1's generated `AttributeValue`. */
export type AttributeValue = NonNullable<AttributeValueMessage["value"]>;

export interface NewEvent {
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: Timestamp | Date;
  datacontenttype?: string;
  dataschema?: string;
  extensions?: FlowEvent["extensions"];
  /** Bytes as they are; any other value is written as JSON with datacontenttype application/json. */
  data?: Buffer | Uint8Array | string | unknown;
}

/**
 * Builds a complete event from the parts that matter: the generated `Event.fromPartial` sets every
 * other field, including those a newer minor of the contract adds, to its default.
 */
export function createEvent(input: NewEvent): FlowEvent {
  let data: Buffer;
  let contentType = input.datacontenttype ?? "";
  if (input.data === undefined) data = Buffer.alloc(0);
  else if (Buffer.isBuffer(input.data)) data = input.data;
  else if (input.data instanceof Uint8Array) data = Buffer.from(input.data);
  else if (typeof input.data === "string") data = Buffer.from(input.data, "utf8");
  else {
    data = Buffer.from(JSON.stringify(input.data), "utf8");
    contentType ||= "application/json";
  }
  return Event.fromPartial({
    id: input.id,
    source: input.source,
    specversion: "1.0",
    type: input.type,
    subject: input.subject ?? "",
    time: input.time instanceof Date ? timestampFromDate(input.time) : input.time,
    datacontenttype: contentType,
    dataschema: input.dataschema ?? "",
    extensions: input.extensions ?? {},
    data,
  });
}

/** The payload parsed as JSON; undefined when it is empty. Throws on invalid JSON. */
export function eventJson(event: FlowEvent): unknown {
  if (event.data.length === 0) return undefined;
  return JSON.parse(event.data.toString("utf8"));
}

const NANOS_PER_SECOND = 1_000_000_000n;

export function timestampFromDate(date: Date): Timestamp {
  const ms = BigInt(date.getTime());
  const seconds = ms >= 0n ? ms / 1000n : -((-ms + 999n) / 1000n);
  return { seconds, nanos: Number(ms - seconds * 1000n) * 1_000_000 };
}

/** Nanoseconds since the epoch as one bigint (exact; a number would lose precision). */
export function timestampToNanos(timestamp: Timestamp): bigint {
  return timestamp.seconds * NANOS_PER_SECOND + BigInt(timestamp.nanos);
}

export function timestampFromNanos(nanos: bigint): Timestamp {
  let seconds = nanos / NANOS_PER_SECOND;
  let rest = nanos % NANOS_PER_SECOND;
  if (rest < 0n) {
    seconds -= 1n;
    rest += NANOS_PER_SECOND;
  }
  return { seconds, nanos: Number(rest) };
}

/** The current time with the best precision the process has (hrtime anchored to the wall clock). */
export function nowTimestamp(): Timestamp {
  return timestampFromNanos(WALL_ANCHOR_NANOS + (process.hrtime.bigint() - HRTIME_ANCHOR));
}
const HRTIME_ANCHOR = process.hrtime.bigint();
const WALL_ANCHOR_NANOS = BigInt(Date.now()) * 1_000_000n;

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range RFC 3339 (four-digit years) can write. */
export const MIN_RFC3339_SECONDS = -62_135_596_800n;
export const MAX_RFC3339_SECONDS = 253_402_300_799n;

/** RFC 3339 with all nine fractional digits (CloudEvents `time`), UTC. */
export function timestampToRfc3339(timestamp: Timestamp): string {
  if (timestamp.seconds < MIN_RFC3339_SECONDS || timestamp.seconds > MAX_RFC3339_SECONDS) {
    throw new RangeError(
      `timestamp ${timestamp.seconds}s is outside 0001-01-01..9999-12-31, which RFC 3339 cannot write`,
    );
  }
  if (!Number.isInteger(timestamp.nanos) || timestamp.nanos < 0 || timestamp.nanos > 999_999_999) {
    throw new RangeError(`timestamp nanos ${timestamp.nanos} is outside 0..999999999`);
  }
  const date = new Date(Number(timestamp.seconds * 1000n));
  const base = date.toISOString().slice(0, 19);
  return `${base}.${String(timestamp.nanos).padStart(9, "0")}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses RFC 3339 keeping every fractional digit up to nanoseconds. */
export function timestampFromRfc3339(text: string): Timestamp {
  const match = RFC3339.exec(text);
  if (!match) throw new RangeError(`"${text}" is not an RFC 3339 time`);
  const [, date = "", time = "", fraction = "", zone = "Z"] = match;
  // Date.parse accepts only the upper-case ISO form; a lower-case "t"/"z" is valid RFC 3339.
  const ms = Date.parse(`${date}T${time}${zone.toUpperCase()}`);
  if (Number.isNaN(ms) || new Date(Date.parse(`${date}T00:00:00Z`)).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`"${text}" is not a valid time`);
  }
  // Whole seconds: the fraction was kept out of Date.parse, so `ms` is an exact multiple of 1000.
  return { seconds: BigInt(ms) / 1000n, nanos: Number(fraction.padEnd(9, "0")) };
}
