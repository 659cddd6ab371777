import { RunStages } from "./run-stages";
import type { StageLink } from "./stage-links";
import { StageRecord } from "./stage-record";
import { planFrom } from "./test-support/fake-link-stream";

const plan = planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
processors: [{ id: rule, address: "127.0.0.1:2", inputs: [src] }]
consumers:
  - { id: sink, address: "127.0.0.1:3", inputs: [rule] }
  - { id: audit, address: "127.0.0.1:4", inputs: [src] }
`);

const outputsOf = (stages: RunStages, id: string) =>
  stages.records.get(id)?.outputs.map((record) => record.id);

describe("RunStages", () => {
  it("has a record per stage, in file order, each pointing at the records reading its output", () => {
    const stages = new RunStages(plan);
    expect([...stages.records.keys()]).toEqual(["src", "rule", "sink", "audit"]);
    expect(outputsOf(stages, "src")).toEqual(["rule", "audit"]);
    expect(outputsOf(stages, "rule")).toEqual(["sink"]);
    expect(outputsOf(stages, "sink")).toEqual([]);
    expect(stages.counters().map((counters) => counters.stageId)).toEqual(["src", "rule", "sink", "audit"]);
  });

  it("points the outputs at the records there are now once a record is replaced", () => {
    const stages = new RunStages(plan);
    const replacement = new StageRecord(plan.stages[1] as (typeof plan.stages)[number]);
    stages.records.set("rule", replacement);
    stages.connectOutputs();
    expect(stages.records.get("src")?.outputs[0]).toBe(replacement);
    expect(replacement.outputs.map((record) => record.id)).toEqual(["sink"]);
  });

  it("knows the most batches any link holds (at-most-once credits), 0 without links", () => {
    const stages = new RunStages(plan);
    expect(stages.busiestLinkHeld()).toBe(0);
    stages.links = [{ held: 1 }, { held: 3 }, { held: 2 }] as StageLink[];
    expect(stages.busiestLinkHeld()).toBe(3);
  });
});
