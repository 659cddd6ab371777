// What a service author uses: serve a definition, build and read events, report what went wrong.
// What Core, tools and tests need from the SDK (handshake, channels, health, servers of their
// own) is `@flow/sdk/internal` (internal.ts).

export { attributeValueJson } from "./attribute-value-json";
export { cloudEventJsonLine } from "./cloudevent-json-line";
export { CLOUDEVENT_JSON_MEMBERS } from "./cloudevent-json-members";
export {
  CLOUDEVENT_ATTRIBUTE_NAME,
  cloudEventFromJson,
  cloudEventFromJsonText,
  cloudEventsFromJsonBatch,
  InvalidCloudEventError,
} from "./cloudevent-json-parse";
export { type ConfigIssue, type ContractVersion, errorIssue, warningIssue } from "./component";
export type { ComponentInfo } from "./component-handlers";
export type { JsonSchema } from "./config-validator";
export type { ConsumerDefinition, ConsumerWriter } from "./consumer";
export { encodedEventBytes } from "./encoded-event-size";
export { EventConversionError, type EventMajor, fromCloudEvent, toCloudEvent } from "./event-conversion";
export {
  type AttributeValue,
  createEvent,
  eventJson,
  type FlowEvent,
  type NewEvent,
  nowTimestamp,
  type Timestamp,
  timestampFromDate,
  timestampFromNanos,
  timestampFromRfc3339,
  timestampToNanos,
  timestampToRfc3339,
} from "./flow-event";
export { isJsonContentType } from "./json-content-type";
export { readPackageVersion } from "./package-version";
export { canWrite, creatableFileIssues, statOrUndefined } from "./path-access";
export {
  type BatchResult,
  type DeadLetterVerdict,
  deadLetter,
  type EventResult,
  type ProcessorDefinition,
} from "./processor";
export { redactedUrl } from "./redacted-url";
export {
  type RunningService,
  type ServeOptions,
  serveConsumer,
  serveProcessor,
  serveSource,
  serviceLogger,
} from "./serve";
export { PermanentError, RetryableError } from "./service-errors";
export { FLOW_CHANNEL_OPTIONS } from "./service-server";
export { BatchByteLimit, type ReadContext, type SourceDefinition, type SourceOutput } from "./source";
