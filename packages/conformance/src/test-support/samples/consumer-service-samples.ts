import * as consumer from "../../gen/consumer_service/v1/consumer";
import * as consumerV2 from "../../gen/consumer_service/v2/consumer";
import type { Event } from "../../gen/event/v1/event";
import { sampleDescriptor } from "./component-samples";
import { type ContractSamples, samplesOf, withSamples } from "./contract-samples";
import { fullEvent } from "./event-samples";
import { fullCloudEvent } from "./event-v2-samples";
import { samplePeerRef } from "./peer-samples";

/**
 * Samples of every message of consumer_service at one major: every major has v1's messages, with
 * its own event (event v1's Event in v1, event v2's CloudEvent in v2). Typed against v1's module.
 */
function samplesAt(m: typeof consumer, major: number, fullEvent: Event): ContractSamples {
  return {
    contract: `consumer_service/v${major}`,
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
          configJson: '{"database":"out.db"}',
          validateOnly: true,
          stageId: "sink",
        }),
      ),
      ConfigureResponse: samplesOf(
        m.ConfigureResponse,
        m.ConfigureResponse.fromPartial({
          accepted: false,
          issues: [{ path: "/database", message: "read-only", severity: 1 }],
        }),
      ),
      WriteRequest: samplesOf(
        m.WriteRequest,
        m.WriteRequest.fromPartial({
          request: { $case: "start", value: { configJson: "{}", stageId: "sink" } },
        }),
        m.WriteRequest.fromPartial({
          request: { $case: "batch", value: { sequence: 12n, batch: { events: [fullEvent] } } },
        }),
        m.WriteRequest.fromPartial({ request: { $case: "flush", value: { token: 2n ** 64n - 1n } } }),
      ),
      WriteStart: samplesOf(
        m.WriteStart,
        m.WriteStart.fromPartial({ configJson: '{"table":"events"}', stageId: "sink" }),
      ),
      WriteBatch: samplesOf(
        m.WriteBatch,
        m.WriteBatch.fromPartial({ sequence: 2n ** 63n - 1n, batch: { events: [fullEvent, fullEvent] } }),
      ),
      Flush: samplesOf(m.Flush, m.Flush.fromPartial({ token: 5n })),
      WriteResponse: samplesOf(
        m.WriteResponse,
        m.WriteResponse.fromPartial({
          response: {
            $case: "ack",
            value: {
              sequence: 12n,
              status: m.AckStatus.ACK_STATUS_PERMANENT_FAILURE,
              reason: "constraint failed",
            },
          },
        }),
        m.WriteResponse.fromPartial({ response: { $case: "flushed", value: { token: 5n } } }),
      ),
      BatchAck: samplesOf(
        m.BatchAck,
        m.BatchAck.fromPartial({
          sequence: 2n ** 53n + 1n,
          status: m.AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
          reason: "database is locked",
        }),
      ),
      Flushed: samplesOf(m.Flushed, m.Flushed.fromPartial({ token: 2n ** 64n - 1n })),
    },
  };
}

export const consumerServiceSamples: ContractSamples = samplesAt(consumer, 1, fullEvent);
// v2's messages are v1's with a CloudEvent where v1 has an Event (the same field numbers), and
// v2.1's of the direct data path: Ingest's IngestRequest and IngestResponse, refs, what an ack of a
// referenced batch says.
const m2 = consumerV2;
const referencedWrite = m2.WriteBatch.fromPartial({ sequence: 11n, ref: samplePeerRef });
const returnedWrite = m2.BatchAck.fromPartial({
  sequence: 11n,
  status: m2.AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
  reason: "database is locked",
  returned: { events: [fullCloudEvent] },
});
const missingWrite = m2.BatchAck.fromPartial({
  sequence: 12n,
  status: m2.AckStatus.ACK_STATUS_RETRYABLE_FAILURE,
  reason: "the batch never came on Ingest",
  refMissing: true,
});
// v2.2: bundles, several stream messages in one.
const bundlingStart = m2.WriteStart.fromPartial({ configJson: "{}", stageId: "sink", acceptsBundles: true });
const writeRequestBundle = m2.WriteRequestBundle.fromPartial({
  requests: [
    { request: { $case: "batch", value: referencedWrite } },
    { request: { $case: "flush", value: { token: 3n } } },
  ],
});
const writeResponseBundle = m2.WriteResponseBundle.fromPartial({
  responses: [
    { response: { $case: "ack", value: returnedWrite } },
    { response: { $case: "flushed", value: { token: 3n } } },
  ],
});
// v2.3's: several IngestRequests in one.
const ingestRequestBundle = m2.IngestRequestBundle.fromPartial({
  requests: [
    { ref: samplePeerRef, batch: { events: [fullCloudEvent] } },
    { ref: { ...samplePeerRef, handle: 2n ** 64n - 1n }, batch: { events: [] } },
  ],
});
export const consumerServiceSamplesV2: ContractSamples = withSamples(
  samplesAt(consumerV2 as unknown as typeof consumer, 2, fullCloudEvent as unknown as Event),
  {
    WriteRequest: samplesOf(
      m2.WriteRequest,
      m2.WriteRequest.fromPartial({ request: { $case: "batch", value: referencedWrite } }),
      m2.WriteRequest.fromPartial({ request: { $case: "start", value: bundlingStart } }),
      m2.WriteRequest.fromPartial({ request: { $case: "bundle", value: writeRequestBundle } }),
    ),
    WriteStart: samplesOf(m2.WriteStart, bundlingStart),
    WriteRequestBundle: samplesOf(m2.WriteRequestBundle, writeRequestBundle),
    WriteResponseBundle: samplesOf(m2.WriteResponseBundle, writeResponseBundle),
    WriteBatch: samplesOf(m2.WriteBatch, referencedWrite),
    WriteResponse: samplesOf(
      m2.WriteResponse,
      m2.WriteResponse.fromPartial({ response: { $case: "ack", value: missingWrite } }),
      m2.WriteResponse.fromPartial({ response: { $case: "bundle", value: writeResponseBundle } }),
    ),
    BatchAck: samplesOf(m2.BatchAck, returnedWrite, missingWrite),
    IngestRequest: samplesOf(
      m2.IngestRequest,
      m2.IngestRequest.fromPartial({ ref: samplePeerRef, batch: { events: [fullCloudEvent] } }),
      m2.IngestRequest.fromPartial({ bundle: ingestRequestBundle }),
    ),
    IngestRequestBundle: samplesOf(m2.IngestRequestBundle, ingestRequestBundle),
    IngestResponse: samplesOf(m2.IngestResponse, m2.IngestResponse.fromPartial({ batches: 3n })),
  },
);
