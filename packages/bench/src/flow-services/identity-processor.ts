import type { ProcessorDefinition } from "@flow/sdk";

/**
 * The benchmark's middle stage: passes every batch on unchanged. It never reads events, so it
 * uses the SDK's encoded-batch mode and forwards the EventBatch bytes as they came.
 */
export const identityProcessor: ProcessorDefinition<Record<string, never>> = {
  name: "flow-bench-identity",
  version: "0.1.0",
  description: "Forwards every batch unchanged, without decoding it",
  configSchema: { type: "object", additionalProperties: false, properties: {} },
  processEncoded: (batch) => batch,
};
