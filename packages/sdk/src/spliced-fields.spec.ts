import { toCloudEvent } from "./event-conversion";
import { CloudEventBatch } from "./gen/event/v2/event";
import { ProcessorServiceService, ProcessResponse } from "./gen/processor_service/v2/processor";
import { lengthDelimitedTag, splicingFields, withSplicedFields } from "./spliced-fields";
import { testEvents } from "./test-support/test-events";

describe("fields spliced into an answer as bytes", () => {
  const serialize = splicingFields(
    ProcessorServiceService.process.responseSerialize as (value: unknown) => Buffer,
  );
  const answer = (member: object) =>
    ProcessResponse.fromPartial({ response: { $case: "batch", value: member } }) as ProcessResponse;

  it("reads back as the answer with those fields set", () => {
    const returned = { events: testEvents(1, 3).map(toCloudEvent) };
    const bytes = CloudEventBatch.encode(returned).finish();
    const member = answer({ inputSequence: 4n, failure: { reason: "down", retryable: true } }).response
      ?.value;
    const frame = serialize({
      response: {
        $case: "batch",
        value: withSplicedFields({ ...member }, [{ tag: lengthDelimitedTag(8), bytes }]),
      },
    });
    const expected = answer({ inputSequence: 4n, failure: { reason: "down", retryable: true }, returned });
    expect(ProcessResponse.decode(frame)).toEqual(
      ProcessResponse.decode(ProcessResponse.encode(expected).finish()),
    );
  });

  it("leaves an answer with nothing spliced as the encoder writes it", () => {
    const plain = answer({ inputSequence: 1n });
    expect(serialize(plain).equals(Buffer.from(ProcessResponse.encode(plain).finish()))).toBe(true);
  });
});
