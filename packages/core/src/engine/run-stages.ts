import type { Pipeline } from "../config/pipeline-model";
import type { StageCounters } from "./stage-counters";
import type { StageLink } from "./stage-links";
import { StageRecord } from "./stage-record";

/**
 * The stages of a run as it runs now: the pipeline, a record per stage (each pointing at the
 * records reading its output) and the links of the processors and consumers. A reload replaces
 * what changed; everything else reads them from here.
 */
export class RunStages {
  readonly records = new Map<string, StageRecord>();
  links: StageLink[] = [];

  constructor(public plan: Pipeline) {
    for (const stage of plan.stages) this.records.set(stage.id, new StageRecord(stage));
    this.connectOutputs();
  }

  /** Points each stage's record at the records of the stages that list it in `inputs` (in file order). */
  connectOutputs(): void {
    for (const stage of this.plan.stages) {
      const record = this.records.get(stage.id) as StageRecord;
      record.outputs = stage.outputs.map((id) => this.records.get(id) as StageRecord);
    }
  }

  counters(): StageCounters[] {
    return [...this.records.values()].map((record) => record.counters);
  }

  /** at-most-once credits: the most batches any link holds (no array built: it runs per batch). */
  busiestLinkHeld(): number {
    let most = 0;
    for (const link of this.links) most = Math.max(most, link.held);
    return most;
  }
}
