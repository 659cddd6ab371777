import { defaultScenarioRegistry } from "../scenarios/default-registry";
import { BROKERS, plainEvents } from "./broker-clients";

describe("the broker scenarios", () => {
  it("publish events of exactly the pipeline's payload size, each with its own id and a time as the consumers write it", () => {
    const events = plainEvents(300, 200);
    expect(events.every((event) => event.body.length === 200)).toBe(true);
    expect(new Set(events.map((event) => event.id)).size).toBe(300);
    expect(JSON.parse(events[7]?.body.toString() ?? "")).toEqual(expect.objectContaining({ seq: 7 }));
    expect(events[7]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  it("are registered one per consumer, out of --quick (they need the local brokers)", () => {
    const registry = defaultScenarioRegistry();
    for (const broker of BROKERS) {
      expect(registry.get(`flow-into-${broker}`)).toEqual(expect.objectContaining({ skipInQuick: true }));
    }
  });
});
