import { UserError } from "@flow/errors";
import type { Delivery } from "./delivery";
import { refMissingReason, refsLostInBreakReason, takeReturnedEvents } from "./reference-answers";
import { referenceBatch } from "./reference-batch";
import { batchOf } from "./test-support/fake-link-stream";

const ref = { stream: "up", handle: 7n };

function delivery(batch = referenceBatch(ref, 2, 200)): Delivery {
  return { origins: [{ source: "src", sequence: 1n }], batch, attempts: 1, sentAt: 0 };
}

describe("answers about batches sent by reference", () => {
  it("a failed delivery sent by reference takes the events the service returned in its place", () => {
    const failed = delivery();
    const returned = batchOf(2, "r", 1, 2);
    const error = takeReturnedEvents({
      stageId: "sink",
      sequence: 3n,
      delivery: failed,
      returned,
      field: "x",
    });
    expect(error).toBeUndefined();
    expect(failed.batch).toBe(returned);
  });

  it("a failed delivery that went with its events keeps them, whatever came back", () => {
    const held = batchOf(1, "h");
    const failed = delivery(held);
    const returned = batchOf(2, "r");
    expect(
      takeReturnedEvents({ stageId: "sink", sequence: 3n, delivery: failed, returned, field: "x" }),
    ).toBe(undefined);
    expect(failed.batch).toBe(held);
  });

  it("a failure of a batch sent by reference that returns no events is an error naming the stage, batch, reference and field", () => {
    const failed = delivery();
    const error = takeReturnedEvents({
      stageId: "sink",
      sequence: 3n,
      delivery: failed,
      returned: undefined,
      field: "BatchAck.returned",
    });
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toBe(
      'stage "sink": the service failed batch 3, which it was sent by reference (stream up handle 7), without returning its events in BatchAck.returned',
    );
    expect(error?.hint).toContain("or run with directPath: false");
    expect(failed.batch.ref).toEqual(ref);
  });

  it("says which stage and batch lost its events, for the data-plane restart", () => {
    expect(refMissingReason("proc", 4n, delivery())).toBe(
      'stage "proc": the events of batch 4, sent by reference (stream up handle 7), never reached the service (ref_missing)',
    );
    expect(refMissingReason("proc", 4n, delivery(batchOf(1)))).toBe(
      'stage "proc": the events of batch 4 never reached the service (ref_missing)',
    );
    expect(refsLostInBreakReason("proc", "no answer within 100 ms")).toBe(
      'stage "proc": no answer within 100 ms, while it held batches sent by reference (their events were with its service alone)',
    );
  });
});
