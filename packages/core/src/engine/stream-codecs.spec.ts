import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createEvent, timestampFromNanos } from "@flow/sdk";
import { WriteRequest } from "../gen/consumer_service/v1/consumer";
import { Event, EventBatch } from "../gen/event/v1/event";
import { ProcessRequest, ProcessResponse } from "../gen/processor_service/v1/processor";
import { ReadResponse } from "../gen/source_service/v1/source";
import {
  countEvents,
  decodeEvents,
  encodeEvents,
  firstEventTime,
  rawBatch,
  splitRawBatch,
} from "./raw-batch";
import {
  decodeProcessResponse,
  decodeReadResponse,
  encodeProcessRequest,
  encodeWriteRequest,
} from "./stream-codecs";

const events = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    createEvent({
      id: `e-${i}`,
      source: "urn:test",
      type: "t",
      data: { i },
      time: timestampFromNanos(1_700_000_000_000_000_000n + BigInt(i)),
    }),
  );

describe("raw batches", () => {
  it("counts events without decoding them, for empty, small and large batches", () => {
    for (const n of [0, 1, 7, 500]) {
      const bytes = EventBatch.encode({ events: events(n) as never }).finish();
      expect(countEvents(bytes)).toBe(n);
    }
  });

  it("counts only field 1 and steps over unknown fields of every wire type, groups included", () => {
    const writer = new BinaryWriter();
    const event = Event.encode(events(1)[0] as never).finish();
    writer.tag(1, WireType.LengthDelimited).bytes(event);
    writer.tag(2, WireType.Varint).uint64(2n ** 63n);
    writer.tag(3, WireType.Bit64).fixed64(1n);
    writer.tag(4, WireType.Bit32).fixed32(7);
    writer.tag(5, WireType.LengthDelimited).bytes(new Uint8Array(300));
    writer.tag(1, WireType.LengthDelimited).bytes(event);
    writer.tag(100_000, WireType.LengthDelimited).bytes(event);
    expect(countEvents(writer.finish())).toBe(2);
    const withGroup = new BinaryWriter()
      .tag(6, WireType.StartGroup)
      .tag(1, WireType.Varint)
      .int32(1)
      .tag(6, WireType.EndGroup)
      .tag(1, WireType.LengthDelimited)
      .bytes(event)
      .finish();
    expect(countEvents(withGroup)).toBe(1);
  });

  it("refuses bytes that end inside a field instead of counting a partial event", () => {
    const bytes = EventBatch.encode({ events: events(2) as never }).finish();
    expect(() => countEvents(bytes.subarray(0, bytes.length - 3))).toThrow();
    expect(() => countEvents(Uint8Array.of(0x0a, 0x80))).toThrow();
  });

  it("cuts a batch into parts of at most n events, in order, without decoding them", () => {
    const batch = encodeEvents(events(10));
    expect(splitRawBatch(batch, 10)).toEqual([batch]);
    const parts = splitRawBatch(batch, 4);
    expect(parts.map((part) => part.count)).toEqual([4, 4, 2]);
    expect(parts.flatMap((part) => decodeEvents(part).map((event) => event.id))).toEqual(
      events(10).map((event) => event.id),
    );
    for (const part of parts) expect(countEvents(part.bytes)).toBe(part.count);
  });

  it("gives every part the batch-level fields it does not know", () => {
    const unknown = new BinaryWriter().tag(9, WireType.Varint).uint32(7).finish();
    const withExtra = Buffer.concat([unknown, encodeEvents(events(3)).bytes]);
    const parts = splitRawBatch(rawBatch(withExtra), 2);
    expect(parts.map((part) => part.count)).toEqual([2, 1]);
    for (const part of parts)
      expect(Buffer.from(part.bytes.subarray(0, unknown.length))).toEqual(Buffer.from(unknown));
  });

  it("decodes the events and the first event's time when asked", () => {
    const batch = encodeEvents(events(3));
    expect(decodeEvents(batch).map((event) => event.id)).toEqual(["e-0", "e-1", "e-2"]);
    expect(firstEventTime(batch)).toMatchObject({ seconds: 1_700_000_000n, nanos: 0 });
    expect(firstEventTime(encodeEvents([]))).toBeUndefined();
    expect(firstEventTime(encodeEvents(events(3).slice(1)))).toMatchObject({
      seconds: 1_700_000_000n,
      nanos: 1,
    });
    const untimed = createEvent({ id: "u", source: "urn:test", type: "t", data: { big: "x".repeat(500) } });
    expect(firstEventTime(encodeEvents([untimed, ...events(1)]))).toBeUndefined();
  });
});

describe("stream codecs agree with the generated codecs", () => {
  it("reads a SourceBatch with its sequence, raw events and checkpoint, skipping unknown fields", () => {
    const frame = Buffer.from(
      ReadResponse.encode({
        response: {
          $case: "batch",
          value: {
            sequence: 2n ** 63n - 1n,
            batch: { events: events(4) as never },
            checkpoint: { position: Buffer.from([1, 2, 3]), description: "at 3" },
          },
        },
      }).finish(),
    );
    // An extra top-level field (number 15, varint) a newer contract might add.
    const withUnknown = Buffer.concat([frame, Buffer.from([15 << 3, 1])]);
    const message = decodeReadResponse(withUnknown);
    expect(message.kind).toBe("batch");
    if (message.kind !== "batch") return;
    expect(message.sequence).toBe(2n ** 63n - 1n);
    expect(message.batch.count).toBe(4);
    expect(decodeEvents(message.batch).map((event) => event.id)).toEqual(["e-0", "e-1", "e-2", "e-3"]);
    expect(message.checkpoint).toEqual({ position: Buffer.from([1, 2, 3]), description: "at 3" });
  });

  it("reads exhausted", () => {
    const frame = Buffer.from(
      ReadResponse.encode({ response: { $case: "exhausted", value: { lastSequence: 9n } } }).finish(),
    );
    expect(decodeReadResponse(frame)).toEqual({ kind: "exhausted", lastSequence: 9n });
  });

  it("writes batch requests the generated decoders read back exactly", () => {
    const batch = encodeEvents(events(5));
    const process = ProcessRequest.decode(encodeProcessRequest({ sequence: 42n, batch }));
    expect(process.request?.$case).toBe("batch");
    if (process.request?.$case !== "batch") return;
    expect(process.request.value.sequence).toBe(42n);
    expect(process.request.value.batch?.events.map((event) => event.id)).toEqual([
      "e-0",
      "e-1",
      "e-2",
      "e-3",
      "e-4",
    ]);

    const write = WriteRequest.decode(encodeWriteRequest({ sequence: 7n, batch }));
    expect(write.request?.$case === "batch" && write.request.value.batch?.events.length).toBe(5);

    const start = { request: { $case: "start" as const, value: { configJson: "{}", stageId: "s" } } };
    expect(ProcessRequest.decode(encodeProcessRequest({ start }))).toMatchObject(start);
  });

  it("reads a ProcessedBatch with output, dead letters and a failure", () => {
    const [first, second] = events(2);
    const frame = Buffer.from(
      ProcessResponse.encode({
        response: {
          $case: "batch",
          value: {
            inputSequence: 3n,
            batch: { events: [first] as never },
            deadLetters: [{ event: second as never, reason: "bad payload" }],
            failure: { reason: "try later", retryable: true },
          },
        },
      }).finish(),
    );
    const answer = decodeProcessResponse(frame);
    expect(answer?.inputSequence).toBe(3n);
    expect(answer?.batch.count).toBe(1);
    expect(answer?.deadLetters.map((letter) => [letter.event.id, letter.reason])).toEqual([
      ["e-1", "bad payload"],
    ]);
    expect(answer?.failure).toEqual({ reason: "try later", retryable: true });
    expect(rawBatch(answer?.batch.bytes ?? new Uint8Array()).count).toBe(1);
  });
});
