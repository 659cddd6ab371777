export * from "./dead-letter-file";
export * from "./dead-letter-records";
export { type EdgePath, pipelineEdgePaths } from "./pipeline-edge-paths";
export * from "./pipeline-metrics";
export * from "./pipeline-runner";
export * from "./source-ledger";
export * from "./stage-counters";
export {
  type Negotiated,
  type RunServices,
  StageServices,
  type StageServicesOptions,
} from "./stage-services";
