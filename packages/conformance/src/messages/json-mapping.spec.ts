import { ConfigIssue, Family, Features, Ordering, Severity } from "../gen/component/v1/component";
import { AckStatus, BatchAck } from "../gen/consumer_service/v1/consumer";
import { Event } from "../gen/event/v1/event";
import { ReadStart } from "../gen/source_service/v1/source";
import { withoutUnknownFields } from "../test-support/message-codec";

describe("proto3 JSON mapping", () => {
  it("writes lowerCamelCase names and reads both them and the proto field names", () => {
    const start = ReadStart.fromPartial({
      configJson: "{}",
      initialCredits: 4,
      maxBatchSize: 100,
      lingerMs: 5,
      stageId: "s",
    });
    expect(ReadStart.toJSON(start)).toEqual({
      configJson: "{}",
      initialCredits: 4,
      maxBatchSize: 100,
      lingerMs: 5,
      stageId: "s",
    });
    const snake = { config_json: "{}", initial_credits: 4, max_batch_size: 100, linger_ms: 5, stage_id: "s" };
    expect(withoutUnknownFields(ReadStart.fromJSON(snake))).toEqual(withoutUnknownFields(start));
  });

  it("writes enums by name and reads names or numbers", () => {
    expect(
      BatchAck.toJSON(BatchAck.fromPartial({ sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN })),
    ).toEqual({
      sequence: "1",
      status: "ACK_STATUS_WRITTEN",
    });
    expect(BatchAck.fromJSON({ status: 3 }).status).toBe(AckStatus.ACK_STATUS_PERMANENT_FAILURE);
    expect(Features.fromJSON({ ordering: "ORDERING_PER_SUBJECT" }).ordering).toBe(
      Ordering.ORDERING_PER_SUBJECT,
    );
    expect(ConfigIssue.fromJSON({ severity: "SEVERITY_WARNING" }).severity).toBe(Severity.SEVERITY_WARNING);
    expect(Family[Family.FAMILY_SOURCE]).toBe("FAMILY_SOURCE");
  });

  it("writes bytes as base64 and 64-bit integers as strings", () => {
    const event = Event.fromPartial({
      id: "b",
      data: Buffer.from([0xfb, 0xff, 0x00]),
      time: { seconds: -(2n ** 63n), nanos: 1 },
    });
    expect(Event.toJSON(event)).toEqual({
      id: "b",
      data: "+/8A",
      time: { seconds: "-9223372036854775808", nanos: 1 },
    });
    expect(Event.fromJSON({ data: "+/8A" }).data).toEqual(Buffer.from([0xfb, 0xff, 0x00]));
  });
});
