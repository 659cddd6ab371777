import type { Pipeline, PipelineStage } from "../config/pipeline-model";

/** The engine runs the resolved pipeline model exactly as the config loader produces it. */
export type RunPlan = Pipeline;
export type StagePlan = PipelineStage;

/** The stages fed by `stageId`. */
export function childrenOf(plan: RunPlan, stageId: string): StagePlan[] {
  return plan.stages.filter((stage) => stage.inputs.includes(stageId));
}
