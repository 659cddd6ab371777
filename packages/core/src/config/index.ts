// The pipeline file: loading, checking and locating (docs/pipeline.md describes the format).
export { FLOW_CLI, PNPM_CLI } from "@flow/errors";
export {
  allowedDeadLetters,
  describeDeadLetterAllowance,
  readDeadLetterAllowance,
} from "./dead-letter-allowance";
export { type Environment, interpolateEnvironment } from "./env-interpolation";
export { directPathSwitch } from "./environment-switches";
export { formatJsonPointer, parseJsonPointer } from "./json-pointer";
export {
  type LoadPipelineOptions,
  loadPipeline,
  type ParsePipelineOptions,
  parsePipeline,
} from "./load-pipeline";
export {
  locatePipelineField,
  locateStageConfig,
  stageConfigError,
  stageConfigProblem,
} from "./locate-stage-config";
export { locatorLocation } from "./locator-location";
export * from "./pipeline-model";
export {
  formatProblem,
  type PipelineProblem,
  problemsToUserErrors,
  problemToUserError,
} from "./pipeline-problem";
export { PIPELINE_SCHEMA_PATH, pipelineSchema } from "./pipeline-schema";
export { salvageOf } from "./salvaged-stages";
export { locatorFromArgument } from "./service-argument";
export { SERVICE_LOCATOR_FIELDS } from "./service-locator";
export { formatLocation, type SourceLocation } from "./source-location";
export { splitCommandLine } from "./split-command-line";
export { consumersDownstream, findCycles, type StageNode, topologicalOrder } from "./stage-graph";
export {
  BUILT_IN_STAGE_SETTINGS,
  DEFAULT_COMMIT_INTERVAL_MS,
  DEFAULT_DEAD_LETTER_PATH,
  mergeStageSettings,
  type PartialStageSettings,
} from "./stage-settings-defaults";
export { resolveStateStoreUrl } from "./state-store-url";
