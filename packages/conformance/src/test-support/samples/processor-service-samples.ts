import type { Event } from "../../gen/event/v1/event";
import * as processor from "../../gen/processor_service/v1/processor";
import * as processorV2 from "../../gen/processor_service/v2/processor";
import { sampleDescriptor } from "./component-samples";
import { type ContractSamples, samplesOf, withSamples } from "./contract-samples";
import { fullEvent } from "./event-samples";
import { fullCloudEvent } from "./event-v2-samples";
import { samplePeer, samplePeerRef } from "./peer-samples";

/**
 * Samples of every message of processor_service at one major: every major has v1's messages, with
 * its own event (event v1's Event in v1, event v2's CloudEvent in v2). Typed against v1's module.
 */
function samplesAt(m: typeof processor, major: number, fullEvent: Event): ContractSamples {
  return {
    contract: `processor_service/v${major}`,
    module: m,
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
}

export const processorServiceSamples: ContractSamples = samplesAt(processor, 1, fullEvent);
// v2's messages are v1's with a CloudEvent where v1 has an Event (the same field numbers), and
// v2.1's of the direct data path: Ingest's IngestRequest and IngestResponse, peers, refs, what an
// answer to a referenced input says.
const m2 = processorV2;
const directStart = m2.ProcessStart.fromPartial({
  configJson: "{}",
  stageId: "enrich",
  peers: [samplePeer],
  acceptsBundles: true,
});
const referencedInput = m2.InputBatch.fromPartial({ sequence: 8n, ref: samplePeerRef });
const referencedOutput = m2.ProcessedBatch.fromPartial({
  inputSequence: 8n,
  deadLetters: [{ event: fullCloudEvent, reason: "bad" }],
  outputRef: samplePeerRef,
  outputCount: 4_294_967_295,
  outputBytes: 2n ** 64n - 1n,
});
const returnedInput = m2.ProcessedBatch.fromPartial({
  inputSequence: 9n,
  failure: { reason: "lookup service down", retryable: true },
  returned: { events: [fullCloudEvent] },
});
const missingInput = m2.ProcessedBatch.fromPartial({ inputSequence: 10n, refMissing: true });
// v2.2: bundles, several stream messages in one.
const processRequestBundle = m2.ProcessRequestBundle.fromPartial({
  requests: [
    { request: { $case: "batch", value: referencedInput } },
    { request: { $case: "batch", value: { sequence: 9n, batch: { events: [fullCloudEvent] } } } },
  ],
});
const processResponseBundle = m2.ProcessResponseBundle.fromPartial({
  responses: [
    { response: { $case: "batch", value: referencedOutput } },
    { response: { $case: "batch", value: missingInput } },
  ],
});
// v2.3's: several IngestRequests in one.
const ingestRequestBundle = m2.IngestRequestBundle.fromPartial({
  requests: [
    { ref: samplePeerRef, batch: { events: [fullCloudEvent] } },
    { ref: { ...samplePeerRef, handle: 2n ** 64n - 1n }, batch: { events: [] } },
  ],
});
export const processorServiceSamplesV2: ContractSamples = withSamples(
  samplesAt(processorV2 as unknown as typeof processor, 2, fullCloudEvent as unknown as Event),
  {
    ProcessRequest: samplesOf(
      m2.ProcessRequest,
      m2.ProcessRequest.fromPartial({ request: { $case: "start", value: directStart } }),
      m2.ProcessRequest.fromPartial({ request: { $case: "batch", value: referencedInput } }),
      m2.ProcessRequest.fromPartial({ request: { $case: "bundle", value: processRequestBundle } }),
    ),
    ProcessStart: samplesOf(m2.ProcessStart, directStart),
    InputBatch: samplesOf(m2.InputBatch, referencedInput),
    ProcessResponse: samplesOf(
      m2.ProcessResponse,
      m2.ProcessResponse.fromPartial({ response: { $case: "batch", value: referencedOutput } }),
      m2.ProcessResponse.fromPartial({ response: { $case: "bundle", value: processResponseBundle } }),
    ),
    ProcessedBatch: samplesOf(m2.ProcessedBatch, referencedOutput, returnedInput, missingInput),
    ProcessRequestBundle: samplesOf(m2.ProcessRequestBundle, processRequestBundle),
    ProcessResponseBundle: samplesOf(m2.ProcessResponseBundle, processResponseBundle),
    IngestRequest: samplesOf(
      m2.IngestRequest,
      m2.IngestRequest.fromPartial({
        ref: samplePeerRef,
        batch: { events: [fullCloudEvent, fullCloudEvent] },
      }),
      m2.IngestRequest.fromPartial({ bundle: ingestRequestBundle }),
    ),
    IngestRequestBundle: samplesOf(m2.IngestRequestBundle, ingestRequestBundle),
    IngestResponse: samplesOf(m2.IngestResponse, m2.IngestResponse.fromPartial({ batches: 2n ** 64n - 1n })),
  },
);
