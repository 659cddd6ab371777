import * as processorV2 from "../gen/processor_service/v2/processor";
import * as sourceV2 from "../gen/source_service/v2/source";
import { completingService } from "./completing-serializers";
import { eventMajor, UNKNOWN_FIELD_BYTES } from "./event-majors";

const [event] = eventMajor(2).sampleEvents([{ data: { n: 1 } }], "completing");

it("encodes an answer of an older minor's shape, a field the newer minor added at its default", () => {
  const read = completingService(sourceV2.SourceServiceService, sourceV2).read;
  // A SourceBatch as v2.0 has it: no ref, event_count, batch_bytes (the generated encoder fails on it).
  const answer = { response: { $case: "batch", value: { sequence: 9n, batch: { events: [event] } } } };
  expect(() => sourceV2.SourceServiceService.read.responseSerialize(answer as never)).toThrow();
  const decoded = sourceV2.ReadResponse.decode(read.responseSerialize(answer as never));
  expect(decoded.response).toMatchObject({
    $case: "batch",
    value: { sequence: 9n, eventCount: 0, batchBytes: 0n, ref: undefined },
  });
  const events = decoded.response?.$case === "batch" ? (decoded.response.value.batch?.events ?? []) : [];
  expect(events.map((one) => eventMajor(2).encode(one).includes(UNKNOWN_FIELD_BYTES))).toEqual([true]);
});

it("completes the messages of every rpc, Ingest's too", () => {
  const ingest = completingService(processorV2.ProcessorServiceService, processorV2).ingest;
  const bytes = ingest.requestSerialize({ ref: { stream: "s" }, batch: { events: [event] } } as never);
  expect(processorV2.IngestRequest.decode(bytes).ref).toMatchObject({ stream: "s", handle: 0n });
  expect(processorV2.IngestResponse.decode(ingest.responseSerialize({} as never)).batches).toBe(0n);
});

it("refuses an rpc the contracts' descriptors do not have, saying how to fix it", () => {
  const read = sourceV2.SourceServiceService.read;
  expect(() =>
    completingService(
      { read: { ...read, path: "/flow.microservices.source_service.v9.SourceService/Read" } },
      sourceV2,
    ),
  ).toThrow(/v9.SourceService\/Read: no such rpc in the contracts' descriptors .*regenerate/);
  expect(() => completingService(sourceV2.SourceServiceService, processorV2)).toThrow(
    /SourceService\/Describe \(flow.microservices.source_service.v2.DescribeRequest\): the message is of package flow.microservices.source_service.v2, not of the module given/,
  );
});
