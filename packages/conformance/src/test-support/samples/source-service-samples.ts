import type { Event } from "../../gen/event/v1/event";
import * as source from "../../gen/source_service/v1/source";
import * as sourceV2 from "../../gen/source_service/v2/source";
import { sampleCheckpoint } from "./checkpoint-samples";
import { sampleDescriptor } from "./component-samples";
import { type ContractSamples, samplesOf, withSamples } from "./contract-samples";
import { fullEvent } from "./event-samples";
import { fullCloudEvent } from "./event-v2-samples";
import { samplePeer, samplePeerRef } from "./peer-samples";

/**
 * Samples of every message of source_service at one major: every major has v1's messages, with
 * its own event (event v1's Event in v1, event v2's CloudEvent in v2). Typed against v1's module.
 */
function samplesAt(m: typeof source, major: number, fullEvent: Event): ContractSamples {
  return {
    contract: `source_service/v${major}`,
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
          configJson: '{"path":"in.jsonl"}',
          validateOnly: true,
          stageId: "orders",
        }),
      ),
      ConfigureResponse: samplesOf(
        m.ConfigureResponse,
        m.ConfigureResponse.fromPartial({
          accepted: false,
          issues: [
            { path: "/path", message: "file not found", severity: 1 },
            { path: "", message: "slow disk", severity: 2 },
          ],
        }),
      ),
      ReadRequest: samplesOf(
        m.ReadRequest,
        m.ReadRequest.fromPartial({
          request: {
            $case: "start",
            value: {
              configJson: "{}",
              checkpoint: sampleCheckpoint,
              initialCredits: 8,
              maxBatchSize: 500,
              lingerMs: 25,
              stageId: "orders",
              maxBatchBytes: 2n ** 64n - 1n,
            },
          },
        }),
        m.ReadRequest.fromPartial({ request: { $case: "credit", value: { batches: 4_294_967_295 } } }),
        m.ReadRequest.fromPartial({
          request: { $case: "commit", value: { sequence: 2n ** 64n - 1n, checkpoint: sampleCheckpoint } },
        }),
        // A oneof case holding a message with only default values is still that case.
        m.ReadRequest.fromPartial({ request: { $case: "credit", value: { batches: 0 } } }),
      ),
      ReadStart: samplesOf(
        m.ReadStart,
        m.ReadStart.fromPartial({
          configJson: '{"a":1}',
          checkpoint: sampleCheckpoint,
          initialCredits: 1,
          maxBatchSize: 0,
          lingerMs: 0,
          stageId: "s",
          maxBatchBytes: 1_048_576n,
        }),
      ),
      CreditGrant: samplesOf(m.CreditGrant, m.CreditGrant.fromPartial({ batches: 3 })),
      CommitNotice: samplesOf(
        m.CommitNotice,
        m.CommitNotice.fromPartial({ sequence: 2n ** 53n + 1n, checkpoint: sampleCheckpoint }),
      ),
      ReadResponse: samplesOf(
        m.ReadResponse,
        m.ReadResponse.fromPartial({
          response: {
            $case: "batch",
            value: { sequence: 1n, batch: { events: [fullEvent] }, checkpoint: sampleCheckpoint },
          },
        }),
        m.ReadResponse.fromPartial({ response: { $case: "exhausted", value: { lastSequence: 0n } } }),
      ),
      SourceBatch: samplesOf(
        m.SourceBatch,
        m.SourceBatch.fromPartial({
          sequence: 2n ** 63n,
          batch: { events: [fullEvent, fullEvent] },
          checkpoint: sampleCheckpoint,
        }),
      ),
      Exhausted: samplesOf(m.Exhausted, m.Exhausted.fromPartial({ lastSequence: 99n })),
    },
  };
}

export const sourceServiceSamples: ContractSamples = samplesAt(source, 1, fullEvent);
// v2's messages are v1's with a CloudEvent where v1 has an Event (the same field numbers), and
// v2.1's fields of the direct data path: peers in ReadStart, a reference in place of the events.
const directStart = sourceV2.ReadStart.fromPartial({
  configJson: "{}",
  initialCredits: 4,
  maxBatchSize: 100,
  stageId: "orders",
  maxBatchBytes: 1_048_576n,
  peers: [samplePeer, { ...samplePeer, stageId: "audit", address: "unix:/run/flow/audit.sock" }],
  acceptsBundles: true,
});
const referencedBatch = sourceV2.SourceBatch.fromPartial({
  sequence: 5n,
  checkpoint: sampleCheckpoint,
  ref: samplePeerRef,
  eventCount: 4_294_967_295,
  batchBytes: 2n ** 64n - 1n,
});
const readRequestBundle = sourceV2.ReadRequestBundle.fromPartial({
  requests: [
    sourceV2.ReadRequest.fromPartial({ request: { $case: "credit", value: { batches: 2 } } }),
    sourceV2.ReadRequest.fromPartial({
      request: { $case: "commit", value: { sequence: 5n, checkpoint: sampleCheckpoint } },
    }),
  ],
});
const readResponseBundle = sourceV2.ReadResponseBundle.fromPartial({
  responses: [
    { response: { $case: "batch", value: referencedBatch } },
    { response: { $case: "exhausted", value: { lastSequence: 5n } } },
  ],
});
export const sourceServiceSamplesV2: ContractSamples = withSamples(
  samplesAt(sourceV2 as unknown as typeof source, 2, fullCloudEvent as unknown as Event),
  {
    ReadRequest: samplesOf(
      sourceV2.ReadRequest,
      sourceV2.ReadRequest.fromPartial({ request: { $case: "start", value: directStart } }),
      sourceV2.ReadRequest.fromPartial({ request: { $case: "bundle", value: readRequestBundle } }),
    ),
    ReadStart: samplesOf(sourceV2.ReadStart, directStart),
    ReadResponse: samplesOf(
      sourceV2.ReadResponse,
      sourceV2.ReadResponse.fromPartial({ response: { $case: "batch", value: referencedBatch } }),
      sourceV2.ReadResponse.fromPartial({ response: { $case: "bundle", value: readResponseBundle } }),
    ),
    SourceBatch: samplesOf(sourceV2.SourceBatch, referencedBatch),
    // v2.2: bundles, several stream messages in one.
    ReadRequestBundle: samplesOf(sourceV2.ReadRequestBundle, readRequestBundle),
    ReadResponseBundle: samplesOf(sourceV2.ReadResponseBundle, readResponseBundle),
  },
);
