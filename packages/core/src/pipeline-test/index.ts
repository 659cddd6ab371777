// `flow test`: pipeline unit tests in YAML beside the pipeline (docs/testing-pipelines.md).
export type { ExpectationCheck, ExpectationFailure, StageOutput } from "./expectations";
export { isTestFileName, readPipelineTestFile, testFileOf } from "./pipeline-test-file";
export { pipelineTestSchema } from "./pipeline-test-schema";
export { ProcessorsUnderTest } from "./processors-under-test";
export {
  type PipelineTestCaseResult,
  type PipelineTestFileResult,
  runPipelineTestFile,
} from "./run-pipeline-tests";
