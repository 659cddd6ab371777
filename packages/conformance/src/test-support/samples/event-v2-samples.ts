import * as event from "../../gen/event/v2/event";
import { type ContractSamples, samplesOf } from "./contract-samples";

const { Any, CloudEvent, CloudEvent_AttributesEntry, CloudEventAttributeValue, CloudEventBatch, Timestamp } =
  event;

export const sampleTimeV2 = Timestamp.fromPartial({ seconds: 1_700_000_000n, nanos: 123_456_789 });

/** An attribute value of every CloudEvents type, as the CloudEvents Protobuf Format has them. */
export const everyCloudEventAttributeValue = [
  CloudEventAttributeValue.fromPartial({ attr: { $case: "ceBoolean", value: true } }),
  CloudEventAttributeValue.fromPartial({ attr: { $case: "ceInteger", value: -2_147_483_648 } }),
  CloudEventAttributeValue.fromPartial({ attr: { $case: "ceString", value: "Grüße, 世界" } }),
  CloudEventAttributeValue.fromPartial({ attr: { $case: "ceBytes", value: Buffer.from([0, 1, 254, 255]) } }),
  CloudEventAttributeValue.fromPartial({ attr: { $case: "ceUri", value: "https://example.com/a?b=c#d" } }),
  CloudEventAttributeValue.fromPartial({ attr: { $case: "ceUriRef", value: "../relative/ref" } }),
  CloudEventAttributeValue.fromPartial({
    attr: { $case: "ceTimestamp", value: { seconds: -1n, nanos: 999_999_999 } },
  }),
];

const orderSchema = "type.googleapis.com/com.example.Order";

export const fullCloudEvent = CloudEvent.fromPartial({
  id: "order-42",
  source: "/shop/orders",
  specVersion: "1.0",
  type: "com.example.order.created",
  attributes: {
    subject: { attr: { $case: "ceString", value: "orders/42" } },
    time: { attr: { $case: "ceTimestamp", value: sampleTimeV2 } },
    datacontenttype: { attr: { $case: "ceString", value: "application/json" } },
    dataschema: { attr: { $case: "ceUri", value: "https://example.com/schemas/order.json" } },
    traceparent: {
      attr: { $case: "ceString", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    },
    partitionkey: { attr: { $case: "ceInteger", value: 7 } },
    sampled: { attr: { $case: "ceBoolean", value: false } },
  },
  data: { $case: "textData", value: '{"order":42,"total":"19.99"}' },
});

export const eventV2Samples: ContractSamples = {
  contract: "event/v2",
  module: event,
  samples: {
    CloudEvent: samplesOf(
      CloudEvent,
      fullCloudEvent,
      CloudEvent.fromPartial({
        id: "binary",
        source: "/s",
        specVersion: "1.0",
        type: "t",
        data: { $case: "binaryData", value: Buffer.from([0, 0xc3, 0x28, 0xff]) },
      }),
      CloudEvent.fromPartial({
        id: "proto",
        source: "/s",
        specVersion: "1.0",
        type: "t",
        attributes: { dataschema: { attr: { $case: "ceUri", value: orderSchema } } },
        data: { $case: "protoData", value: { typeUrl: orderSchema, value: Buffer.from([8, 42]) } },
      }),
      CloudEvent.fromPartial({ id: "minimal", source: "/s", specVersion: "1.0", type: "t" }),
    ),
    CloudEvent_AttributesEntry: samplesOf(
      CloudEvent_AttributesEntry,
      CloudEvent_AttributesEntry.fromPartial({ key: "k", value: everyCloudEventAttributeValue[2] }),
    ),
    CloudEventAttributeValue: samplesOf(CloudEventAttributeValue, ...everyCloudEventAttributeValue),
    CloudEventBatch: samplesOf(
      CloudEventBatch,
      CloudEventBatch.fromPartial({
        events: [fullCloudEvent, fullCloudEvent, CloudEvent.fromPartial({ id: "2" })],
      }),
    ),
    Timestamp: samplesOf(
      Timestamp,
      sampleTimeV2,
      Timestamp.fromPartial({ seconds: -62_135_596_800n, nanos: 0 }),
      Timestamp.fromPartial({ seconds: 253_402_300_799n, nanos: 999_999_999 }),
    ),
    Any: samplesOf(Any, Any.fromPartial({ typeUrl: orderSchema, value: Buffer.from([8, 42]) })),
  },
};
