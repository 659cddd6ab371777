import * as component from "../../gen/component/v1/component";
import { type ContractSamples, samplesOf } from "./contract-samples";

const { ComponentDescriptor, ConfigIssue, ContractVersion, Family, Features, Limits, Ordering, Severity } =
  component;

export const sampleDescriptor = ComponentDescriptor.fromPartial({
  name: "flow-consumer-sqlite",
  version: "1.4.2",
  family: Family.FAMILY_CONSUMER,
  contracts: [
    { name: "consumer_service", major: 1, minor: 2, patch: 3 },
    { name: "consumer_service", major: 2, minor: 0, patch: 0 },
  ],
  acceptedEventTypes: ["com.example.*", "org.other.event"],
  producedEventTypes: [],
  configSchema: JSON.stringify({
    type: "object",
    required: ["path"],
    properties: { path: { type: "string" } },
  }),
  limits: {
    maxBatchSize: 4_294_967_295,
    maxInFlightBatches: 16,
    maxEventBytes: 2n ** 64n - 1n,
    maxMessageBytes: 2n ** 64n - 1n,
  },
  features: {
    checkpointing: false,
    ordering: Ordering.ORDERING_PER_SUBJECT,
    idempotent: true,
    deadLetters: true,
    directPath: true,
  },
  description: "One row per event, idempotent on event id",
});

export const componentSamples: ContractSamples = {
  contract: "component/v1",
  module: component,
  samples: {
    ContractVersion: samplesOf(
      ContractVersion,
      ContractVersion.fromPartial({ name: "source_service", major: 1, minor: 4_294_967_295, patch: 7 }),
    ),
    Limits: samplesOf(
      Limits,
      Limits.fromPartial({
        maxBatchSize: 1000,
        maxInFlightBatches: 8,
        maxEventBytes: 2n ** 53n + 1n,
        maxMessageBytes: 64n * 1024n * 1024n,
      }),
    ),
    Features: samplesOf(
      Features,
      Features.fromPartial({
        checkpointing: true,
        ordering: Ordering.ORDERING_TOTAL,
        idempotent: true,
        deadLetters: true,
      }),
    ),
    ComponentDescriptor: samplesOf(ComponentDescriptor, sampleDescriptor),
    ConfigIssue: samplesOf(
      ConfigIssue,
      ConfigIssue.fromPartial({
        path: "/columns/2/name",
        message: 'required property "name" is missing',
        severity: Severity.SEVERITY_ERROR,
      }),
      ConfigIssue.fromPartial({ path: "", message: "deprecated", severity: Severity.SEVERITY_WARNING }),
    ),
  },
};
