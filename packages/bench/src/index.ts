// The harness as a library, so the lead can register the Flow scenarios from anywhere.
export { BENCH_USAGE, type BenchOptions, DEFAULT_RUNS, parseBenchOptions } from "./bench-options";
export { PAYLOAD_BYTES, syntheticBatch, syntheticPayload } from "./codec/synthetic-events";
export { type BenchOutput, type BenchResult, runBench } from "./harness";
export { killChildrenOnExit } from "./live-children";
export { type BaselinePipelineSettings, runBaselinePipeline } from "./pipeline/baseline-pipeline-run";
export { ChildProcessGroup, SpawnedProcess } from "./pipeline/child-process-group";
export type { FigureLine, FigureStatus } from "./report/figure-line";
export type { FigureRef, Measurement, PlannedFigure, Scenario, ScenarioContext } from "./scenario";
export { ScenarioRegistry } from "./scenario-registry";
export { defaultScenarioRegistry } from "./scenarios/default-registry";
