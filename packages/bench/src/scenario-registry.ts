import type { Scenario } from "./scenario";

// Scenarios are looked up by name (--only) and run in registration order, so baselines registered
// first are measured first in every run.
export class ScenarioRegistry {
  private readonly byName = new Map<string, Scenario>();

  register(scenario: Scenario): this {
    if (this.byName.has(scenario.name)) {
      throw new Error(`scenario "${scenario.name}" is registered twice`);
    }
    this.byName.set(scenario.name, scenario);
    return this;
  }

  get(name: string): Scenario | undefined {
    return this.byName.get(name);
  }

  all(): Scenario[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * The scenarios named, plus (transitively) the baselines they compare against, in registration
   * order. Throws on an unknown name so a typo in --only does not silently run nothing.
   */
  select(names: string[]): Scenario[] {
    const wanted = new Set<string>();
    const visit = (name: string): void => {
      if (wanted.has(name)) return;
      const scenario = this.byName.get(name);
      if (scenario === undefined) {
        throw new Error(`unknown scenario "${name}"; known: ${this.names().join(", ")}`);
      }
      wanted.add(name);
      for (const baseline of scenario.baselines ?? []) visit(baseline);
    };
    for (const name of names) visit(name);
    return this.all().filter((scenario) => wanted.has(scenario.name));
  }
}
