import type * as grpc from "@grpc/grpc-js";
import { ConsumerServiceService, WriteResponse } from "./gen/consumer_service/v2/consumer";
import { ProcessorServiceService, ProcessResponse } from "./gen/processor_service/v2/processor";
import { completingMembers } from "./member-defaults";

type Method = grpc.MethodDefinition<unknown, unknown>;
const completing = (method: Method) =>
  completingMembers(method.responseSerialize, method.responseDeserialize);

describe("answers in v1's shape on a later contract", () => {
  it("are encoded with the fields the later contract added at their defaults", () => {
    // processor_service v2.1 added output_count, output_bytes, ref_missing...: v1's shape has none.
    const v1Shaped = { response: { $case: "batch", value: { inputSequence: 3n, deadLetters: [] } } };
    const process = ProcessorServiceService.process as Method;
    expect(() => process.responseSerialize(v1Shaped)).toThrow();
    const frame = completing(process)(v1Shaped);
    expect(ProcessResponse.decode(frame)).toEqual(
      ProcessResponse.fromPartial({ response: { $case: "batch", value: { inputSequence: 3n } } }),
    );
  });

  it("complete each case of the oneof with its own defaults, and leave what the answer sets", () => {
    const write = completing(ConsumerServiceService.write as Method);
    const flushed = WriteResponse.decode(write({ response: { $case: "flushed", value: { token: 9n } } }));
    expect(flushed.response).toEqual({ $case: "flushed", value: expect.objectContaining({ token: 9n }) });
    const ack = WriteResponse.decode(
      write({
        response: { $case: "ack", value: { sequence: 2n, status: 2, reason: "busy", refMissing: true } },
      }),
    );
    expect(ack.response?.value).toMatchObject({ sequence: 2n, status: 2, reason: "busy", refMissing: true });
  });

  it("pass messages with no `response` oneof as they are", () => {
    const describe = ProcessorServiceService.describe as Method;
    expect(completing(describe)).toBe(describe.responseSerialize);
  });
});
