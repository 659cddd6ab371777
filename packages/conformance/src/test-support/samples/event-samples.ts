import * as event from "../../gen/event/v1/event";
import { type ContractSamples, samplesOf } from "./contract-samples";

const { AttributeValue, Event, Event_ExtensionsEntry, EventBatch, Timestamp } = event;

export const sampleTime = Timestamp.fromPartial({ seconds: 1_700_000_000n, nanos: 123_456_789 });

/** An attribute value of every CloudEvents type. */
export const everyAttributeValue = [
  AttributeValue.fromPartial({ value: { $case: "booleanValue", value: true } }),
  AttributeValue.fromPartial({ value: { $case: "integerValue", value: -2_147_483_648 } }),
  AttributeValue.fromPartial({ value: { $case: "stringValue", value: "Grüße, 世界" } }),
  AttributeValue.fromPartial({ value: { $case: "binaryValue", value: Buffer.from([0, 1, 254, 255]) } }),
  AttributeValue.fromPartial({ value: { $case: "uriValue", value: "https://example.com/a?b=c#d" } }),
  AttributeValue.fromPartial({ value: { $case: "uriRefValue", value: "../relative/ref" } }),
  AttributeValue.fromPartial({
    value: { $case: "timestampValue", value: { seconds: -1n, nanos: 999_999_999 } },
  }),
];

export const fullEvent = Event.fromPartial({
  id: "order-42",
  source: "/shop/orders",
  specversion: "1.0",
  type: "com.example.order.created",
  subject: "orders/42",
  time: sampleTime,
  datacontenttype: "application/json",
  dataschema: "https://example.com/schemas/order.json",
  extensions: {
    traceparent: {
      value: { $case: "stringValue", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    },
    partitionkey: { value: { $case: "integerValue", value: 7 } },
    sampled: { value: { $case: "booleanValue", value: false } },
    "": { value: { $case: "stringValue", value: "an empty key is still a key" } },
  },
  data: Buffer.from('{"order":42,"total":"19.99"}'),
});

export const eventSamples: ContractSamples = {
  contract: "event/v1",
  module: event,
  samples: {
    Event: samplesOf(
      Event,
      fullEvent,
      Event.fromPartial({ id: "minimal", source: "/s", specversion: "1.0", type: "t" }),
    ),
    Event_ExtensionsEntry: samplesOf(
      Event_ExtensionsEntry,
      Event_ExtensionsEntry.fromPartial({ key: "k", value: everyAttributeValue[2] }),
    ),
    Timestamp: samplesOf(
      Timestamp,
      sampleTime,
      Timestamp.fromPartial({ seconds: -62_135_596_800n, nanos: 0 }),
      Timestamp.fromPartial({ seconds: 253_402_300_799n, nanos: 999_999_999 }),
    ),
    AttributeValue: samplesOf(AttributeValue, ...everyAttributeValue),
    EventBatch: samplesOf(
      EventBatch,
      EventBatch.fromPartial({ events: [fullEvent, fullEvent, Event.fromPartial({ id: "2" })] }),
    ),
  },
};
