import * as processor from "../../gen/processor_service/v1/processor";
import { sampleDescriptor } from "./component-samples";
import { type ContractSamples, samplesOf } from "./contract-samples";
import { fullEvent } from "./event-samples";

const m = processor;

export const processorServiceSamples: ContractSamples = {
  contract: "processor_service/v1",
  module: processor,
  samples: {
    DescribeRequest: samplesOf(m.DescribeRequest, m.DescribeRequest.fromPartial({})),
    DescribeResponse: samplesOf(
      m.DescribeResponse,
      m.DescribeResponse.fromPartial({ component: sampleDescriptor }),
    ),
    ConfigureRequest: samplesOf(
      m.ConfigureRequest,
      m.ConfigureRequest.fromPartial({
        configJson: '{"expression":"n > 1"}',
        validateOnly: false,
        stageId: "filter",
      }),
    ),
    ConfigureResponse: samplesOf(
      m.ConfigureResponse,
      m.ConfigureResponse.fromPartial({
        accepted: true,
        issues: [{ path: "/expression", message: "always true", severity: 2 }],
      }),
    ),
    ProcessRequest: samplesOf(
      m.ProcessRequest,
      m.ProcessRequest.fromPartial({
        request: { $case: "start", value: { configJson: "{}", stageId: "filter" } },
      }),
      m.ProcessRequest.fromPartial({
        request: { $case: "batch", value: { sequence: 7n, batch: { events: [fullEvent] } } },
      }),
    ),
    ProcessStart: samplesOf(
      m.ProcessStart,
      m.ProcessStart.fromPartial({ configJson: '{"x":[1,2]}', stageId: "map" }),
    ),
    InputBatch: samplesOf(
      m.InputBatch,
      m.InputBatch.fromPartial({ sequence: 2n ** 64n - 1n, batch: { events: [fullEvent] } }),
    ),
    ProcessResponse: samplesOf(
      m.ProcessResponse,
      m.ProcessResponse.fromPartial({
        response: {
          $case: "batch",
          value: {
            inputSequence: 3n,
            batch: { events: [fullEvent] },
            deadLetters: [{ event: fullEvent, reason: "bad" }],
          },
        },
      }),
    ),
    ProcessedBatch: samplesOf(
      m.ProcessedBatch,
      m.ProcessedBatch.fromPartial({
        inputSequence: 2n ** 53n + 1n,
        batch: { events: [] },
        deadLetters: [
          { event: fullEvent, reason: "payload is not JSON" },
          { event: fullEvent, reason: "expression failed: n is undefined" },
        ],
        failure: { reason: "lookup service down", retryable: true },
      }),
    ),
    DeadLetter: samplesOf(
      m.DeadLetter,
      m.DeadLetter.fromPartial({ event: fullEvent, reason: "schema mismatch at /total" }),
    ),
    BatchFailure: samplesOf(
      m.BatchFailure,
      m.BatchFailure.fromPartial({ reason: "out of memory", retryable: false }),
    ),
  },
};
