import type { Pipeline } from "../config/pipeline-model";
import { type EdgePath, edgePaths } from "./direct-edges";
import { RunStages } from "./run-stages";
import type { Negotiated, RunServices } from "./stage-services";

export type { EdgePath } from "./direct-edges";

/**
 * The way each edge of `plan` would carry its batches in a run, once its services are negotiated:
 * directly from stage to stage, or through Core and why (`flow validate` prints them; a run logs
 * its direct edges when it starts). `tracing`: spans are recorded, which keeps every batch in Core.
 */
export function pipelineEdgePaths(
  plan: Pipeline,
  services: Pick<RunServices, "endpoint">,
  negotiated: Pick<Negotiated, "limits" | "directPath">,
  tracing = false,
): EdgePath[] {
  const stages = new RunStages(plan);
  for (const record of stages.records.values())
    record.negotiated(negotiated.limits.get(record.id), negotiated.directPath.has(record.id));
  return edgePaths(stages.records.values(), {
    enabled: plan.directPath && !tracing,
    endpoint: (id) => services.endpoint(id),
  });
}
