// `@flow/sdk/internal`: what Flow Core, the CLI, tools and tests use from the SDK, kept apart from
// what a service author calls (index.ts). No compatibility promise beyond this workspace.

export { type BackoffBounds, backoffDelayMs } from "./backoff-delay";
export { BUNDLE_FIELD, bundledMessages, bundleFrame, bundlesAt } from "./bundle-frames";
export { BundleWriter } from "./bundle-writer";
export { type ComponentDescriptor, FAMILY, FAMILY_NAMES, type FamilyName, familyNameOf } from "./component";
export { ConfigValidator } from "./config-validator";
export { consumerImplementation } from "./consumer";
export { vendoredContractVersion } from "./contract-version";
export {
  type ConvertedBatch,
  convertEventBatch,
  decodeEvents,
  EventConversionError,
  type EventMajor,
  fromCloudEvent,
  toCloudEvent,
} from "./event-conversion";
export { withEventConversion } from "./event-wire";
export { formatHandshake, type Handshake, isHandshakeLine, parseHandshake } from "./handshake";
export { checkHealth, checkServingStatus, type HealthStatus, type ServingStatus } from "./health-check";
export { bindImplementation } from "./method-binding";
export { processorImplementation } from "./processor";
export { linkFileDescriptors } from "./reflection-descriptors";
export {
  type DrainHook,
  FLOW_CHANNEL_OPTIONS,
  GRPC_DEFAULT_MAX_MESSAGE_BYTES,
  maxReceiveMessageBytes,
  type ServerOptions,
  type ServiceRegistration,
  ServiceServer,
} from "./service-server";
export { sourceImplementation } from "./source";
export { STEADY_LATENCY_NODE_FLAGS } from "./steady-latency-node-flags";
