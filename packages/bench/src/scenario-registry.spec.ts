import { ScenarioRegistry } from "./scenario-registry";

describe("ScenarioRegistry.select", () => {
  const registry = new ScenarioRegistry()
    .register({ name: "codec", description: "" })
    .register({ name: "baseline", description: "" })
    .register({ name: "variant", description: "", baselines: ["baseline"] });

  it("adds the baselines of the scenarios asked for, in registration order", () => {
    expect(registry.select(["variant"]).map((scenario) => scenario.name)).toEqual(["baseline", "variant"]);
  });

  it("refuses a name registered twice", () => {
    expect(() => registry.register({ name: "codec", description: "" })).toThrow(/twice/);
  });
});
