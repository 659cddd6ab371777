import { syntheticBatch, syntheticPayload } from "../codec/synthetic-events";
import { WriteRequest } from "../gen/consumer_service/v1/consumer";
import { ReadResponse } from "../gen/source_service/v1/source";
import { spliceReadResponse } from "./source-batch-splice";

// The forwarding middle must hand the sink exactly what the decoding middle would: same sequence,
// same events, no checkpoint (WriteBatch has none).

describe("spliceReadResponse", () => {
  it("turns a ReadResponse batch into the WriteRequest the generated code would encode", () => {
    const batch = syntheticBatch(40, 3, syntheticPayload(16), 1_700_000_000_123);
    const bytes = ReadResponse.encode({
      response: {
        $case: "batch",
        value: {
          sequence: 300n,
          batch,
          checkpoint: { position: Buffer.from([1, 2, 3]), description: "after 43" },
        },
      },
    }).finish();

    const spliced = spliceReadResponse(bytes);

    expect(spliced.kind).toBe("batch");
    if (spliced.kind !== "batch") return;
    expect(spliced.sequence).toBe(300n);
    const expected = WriteRequest.encode({
      request: { $case: "batch", value: { sequence: 300n, batch } },
    }).finish();
    expect(Buffer.compare(spliced.writeRequest, Buffer.from(expected))).toBe(0);
    const decoded = WriteRequest.decode(spliced.writeRequest);
    expect(decoded.request?.$case).toBe("batch");
    if (decoded.request?.$case !== "batch") return;
    expect(decoded.request.value.batch?.events.map((event) => event.id)).toEqual([
      "evt-40",
      "evt-41",
      "evt-42",
    ]);
  });

  it("handles a batch larger than a one-byte length prefix", () => {
    const batch = syntheticBatch(0, 500, syntheticPayload());
    const bytes = ReadResponse.encode({
      response: { $case: "batch", value: { sequence: 1n, batch, checkpoint: undefined } },
    }).finish();
    const spliced = spliceReadResponse(bytes);
    if (spliced.kind !== "batch") throw new Error(`expected a batch, got ${spliced.kind}`);
    const decoded = WriteRequest.decode(spliced.writeRequest);
    expect(decoded.request?.$case === "batch" && decoded.request.value.batch?.events.length).toBe(500);
  });

  it("reads the last sequence of an exhausted message", () => {
    const bytes = ReadResponse.encode({
      response: { $case: "exhausted", value: { lastSequence: 2n ** 40n } },
    }).finish();
    expect(spliceReadResponse(bytes)).toEqual({ kind: "exhausted", lastSequence: 2n ** 40n });
  });
});
