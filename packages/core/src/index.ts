export * from "./clients/service-clients";
export * from "./config";
export * from "./discovery/service-endpoint";
export * from "./discovery/workspace-packages";
export * from "./engine";
/** What a service says of itself (Describe), as generated from the component contract. */
export type { ComponentDescriptor } from "./gen/component/v1/component";
export * from "./negotiation/negotiate";
export {
  describeAnyService,
  describeStage,
  listedContract,
  offeredMajors,
} from "./negotiation/stage-contract";
export * from "./observability";
export * from "./pipeline-test";
export * from "./registry";
export * from "./state";
