import type { PipelineStage } from "../config/pipeline-model";
import type { Peer } from "../gen/peer/v1/peer";
import { endpointMajor, type LinkEndpoint } from "./link-stream";
import { DIRECT_PATH_MAJOR } from "./reference-batch";
import type { LinkRequest } from "./stream-codecs";

/** What a processor's or consumer's start message is made of (batch-link.ts's parts). */
export interface LinkStartParts {
  stage: PipelineStage;
  endpoint: LinkEndpoint;
  peers?: () => Peer[];
}

/**
 * The first message of a processor's or consumer's stream. Both families open with the same
 * StreamStart (the stage's config and id, whether Core reads bundles), so it is built once for
 * either contract; a processor's is a ProcessStart, whose peers (the direct data path) only a v2
 * stream is given. The codec writes every field it has, so the list is there, empty or not.
 */
export function linkStartMessage<Start>({ stage, endpoint, peers }: LinkStartParts): LinkRequest<Start> {
  const value = {
    configJson: JSON.stringify(stage.config ?? {}),
    stageId: stage.id,
    acceptsBundles: endpoint.bundles === true,
  };
  const start =
    stage.family === "processor"
      ? { ...value, peers: endpointMajor(endpoint) === DIRECT_PATH_MAJOR ? (peers?.() ?? []) : [] }
      : value;
  return { start: { request: { $case: "start", value: start } } as Start };
}
